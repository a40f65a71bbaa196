"""Billing writes, split by subdomain: subscriptions, webhooks, metering and quotas."""
