"""Instrumentation of provider clients (OpenAI, Anthropic) and the generic ``track``."""
