"""What the demo endpoints' calls say: a request and a response that look like each endpoint's
real work (tickets, invoices, FAQs, threads, e-mails, code, SQL, analyses). Some carry e-mail
addresses and phone numbers, so the demo shows ingest redaction at work."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

Payload = tuple[dict[str, Any], dict[str, Any]]

NAMES = ("Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi", "Lena")
PRODUCTS = ("Pro plan", "Team plan", "wireless headset", "standing desk", "USB-C dock", "annual licence")
ISSUES = (
    ("billing", "I was charged twice for order #{n} this morning, can you refund one of them?"),
    ("shipping", "My parcel (order #{n}) still says 'label created' after five days. Where is it?"),
    ("returns", "The {product} I received is scratched. How do I send it back?"),
    ("account", "I can't log in since I changed my e-mail to {email}. Reset link never arrives."),
    ("technical", "The app crashes when I export a report with more than 500 rows."),
    ("billing", "Can I switch from monthly to annual billing and keep my discount?"),
    ("other", "Do you have an office in Lisbon? I'd like to visit with my team."),
)
QUESTIONS = (
    (
        "How do I reset my password?",
        "Open Settings → Security and choose “Reset password”; the link is valid for 30 minutes.",
    ),
    (
        "Can I add a second admin?",
        "Yes: admins can invite members under Team → Members and give them the Admin role.",
    ),
    (
        "What payment methods do you accept?",
        "Cards (Visa, Mastercard, Amex), SEPA debit and invoices for annual plans.",
    ),
    ("How long do refunds take?", "Refunds reach your card within 5–10 business days after we approve them."),
    ("Is my data stored in the EU?", "Yes, EU workspaces are hosted in Frankfurt and never leave the EU."),
    (
        "How do I cancel my subscription?",
        "Go to Billing → Plan → Cancel; you keep access until the period ends.",
    ),
)
TABLES = (
    "orders(id, customer_id, total_eur, status, created_at)",
    "customers(id, name, country, segment, signed_up_at)",
    "order_items(order_id, sku, quantity, unit_price_eur)",
)
SQL_ASKS = (
    (
        "Monthly revenue in 2025 for customers in Germany",
        "SELECT date_trunc('month', o.created_at) AS month, sum(o.total_eur) AS revenue\nFROM orders o JOIN customers c ON c.id = o.customer_id\nWHERE c.country = 'DE' AND o.created_at >= '2025-01-01' AND o.created_at < '2026-01-01'\nGROUP BY 1 ORDER BY 1;",
    ),
    (
        "Top 10 SKUs by quantity last quarter",
        "SELECT sku, sum(quantity) AS units\nFROM order_items oi JOIN orders o ON o.id = oi.order_id\nWHERE o.created_at >= date_trunc('quarter', now()) - interval '3 months'\n  AND o.created_at < date_trunc('quarter', now())\nGROUP BY sku ORDER BY units DESC LIMIT 10;",
    ),
    (
        "Customers who ordered once and never again",
        "SELECT c.id, c.name FROM customers c\nJOIN orders o ON o.customer_id = c.id\nGROUP BY c.id, c.name HAVING count(*) = 1;",
    ),
    (
        "Average order value per segment",
        "SELECT c.segment, avg(o.total_eur) AS aov\nFROM orders o JOIN customers c ON c.id = o.customer_id\nGROUP BY c.segment ORDER BY aov DESC;",
    ),
)
CODE_ASKS = (
    (
        "a Python function that retries an HTTP GET with exponential backoff",
        "def get_with_retry(url, attempts=5):\n    delay = 0.5\n    for attempt in range(attempts):\n        try:\n            return requests.get(url, timeout=10)\n        except requests.RequestException:\n            if attempt == attempts - 1:\n                raise\n            time.sleep(delay)\n            delay *= 2",
    ),
    (
        "a TypeScript debounce helper",
        "export function debounce<T extends (...a: any[]) => void>(fn: T, ms: number) {\n  let t: ReturnType<typeof setTimeout> | undefined;\n  return (...args: Parameters<T>) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n}",
    ),
    (
        "a unit test for the invoice total calculation",
        "def test_total_includes_vat():\n    invoice = Invoice(lines=[Line(2, Decimal('9.50'))], vat=Decimal('0.19'))\n    assert invoice.total == Decimal('22.61')",
    ),
    (
        "a Go handler that returns the health of the service",
        'func health(w http.ResponseWriter, r *http.Request) {\n\tw.Header().Set("Content-Type", "application/json")\n\tjson.NewEncoder(w).Encode(map[string]string{"status": "ok"})\n}',
    ),
)
TOPICS = (
    "the delayed delivery",
    "their renewal quote",
    "the onboarding call next week",
    "a missing invoice",
    "the new pricing",
)
VENDORS = ("Nordwind GmbH", "Atelier Lumière SARL", "Baltic Freight AB", "Sierra Office Supply Ltd")


def _email(rng: random.Random, name: str) -> str:
    return f"{name.lower()}.{rng.choice(('k', 'm', 's', 'w'))}{rng.randrange(10, 99)}@example.com"


def _user(text: str, system: str = "") -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": [*messages, {"role": "user", "content": text}]}


def classify(rng: random.Random, model: str) -> Payload:
    label, template = rng.choice(ISSUES)
    name = rng.choice(NAMES)
    text = template.format(
        n=rng.randrange(10000, 99999), product=rng.choice(PRODUCTS), email=_email(rng, name)
    )
    system = "Classify the support ticket as one of: billing, shipping, returns, account, technical, other. Answer with the label only."
    return _user(f"{text}\n— {name}", system) | {"model": model, "temperature": 0}, {"content": label}


def extract(rng: random.Random, model: str) -> Payload:
    vendor = rng.choice(VENDORS)
    number = f"INV-{rng.randrange(2025000, 2025999)}"
    lines = [
        (rng.choice(PRODUCTS), rng.randrange(1, 6), rng.randrange(19, 900))
        for _ in range(rng.randrange(1, 4))
    ]
    total = sum(q * p for _, q, p in lines)
    ocr = "\n".join(
        [
            f"{vendor}",
            f"Invoice {number}",
            f"Date: 2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}",
        ]
    )
    ocr += "\n" + "\n".join(f"{desc} x{q} @ {p}.00 EUR" for desc, q, p in lines) + f"\nTOTAL {total}.00 EUR"
    answer = {
        "vendor": vendor,
        "invoice_number": number,
        "currency": "EUR",
        "total": total,
        "line_items": [{"description": d, "quantity": q, "unit_price": p} for d, q, p in lines],
    }
    system = "Extract vendor, invoice_number, date, currency, total and line_items from the invoice as JSON."
    return _user(ocr, system) | {"model": model, "response_format": {"type": "json_object"}}, {
        "content": json.dumps(answer)
    }


def faq(rng: random.Random, model: str) -> Payload:
    question, answer = rng.choice(QUESTIONS)
    system = "You answer questions about Acme Cloud using the help-centre articles below. Be brief.\n[articles: 42 snippets, cached]"
    return _user(question, system) | {"model": model, "max_tokens": 400}, {"content": answer}


def summarise(rng: random.Random, model: str) -> Payload:
    name = rng.choice(NAMES)
    thread = [
        f"{name}: Hi, my {rng.choice(PRODUCTS)} stopped syncing yesterday. Call me on +49 30 {rng.randrange(1000000, 9999999)}.",
        "Agent: Sorry to hear that! Which version of the app are you on?",
        f"{name}: 2.{rng.randrange(10, 19)}.{rng.randrange(0, 9)} on Windows.",
        "Agent: Thanks. Could you try signing out and in again?",
        f"{name}: Did that, still broken. This is urgent, we demo on Friday.",
    ]
    summary = f"- {name} reports sync failure since yesterday (Windows app)\n- Re-login did not help\n- Urgent: demo on Friday; escalate to tier 2"
    return _user("Summarise this thread for the next agent:\n" + "\n".join(thread)) | {"model": model}, {
        "content": summary
    }


def draft_email(rng: random.Random, model: str) -> Payload:
    name, topic = rng.choice(NAMES), rng.choice(TOPICS)
    ask = f"Draft a friendly reply to {name} ({_email(rng, name)}) about {topic}. Offer a call on Thursday."
    body = f"Hi {name},\n\nThanks for your patience regarding {topic}. We've looked into it and have an update for you. Would a short call on Thursday work? I'll send an invite.\n\nBest regards,\nSam from Acme"
    return _user(ask) | {"model": model, "temperature": 0.7}, {"content": body}


def codegen(rng: random.Random, model: str) -> Payload:
    ask, code = rng.choice(CODE_ASKS)
    return _user(f"Write {ask}. Return only code.", "You are a senior engineer.") | {"model": model}, {
        "content": f"```\n{code}\n```"
    }


def sql(rng: random.Random, model: str) -> Payload:
    ask, query = rng.choice(SQL_ASKS)
    system = "Write one PostgreSQL query. Schema:\n" + "\n".join(TABLES)
    return _user(ask, system) | {"model": model, "temperature": 0}, {"content": query}


def analysis(rng: random.Random, model: str) -> Payload:
    cohort = rng.choice(("January signups", "EU SMB accounts", "trial users from ads", "enterprise pilots"))
    churn = rng.randrange(4, 19)
    ask = (
        f"Analyse why {cohort} churned ({churn}% in 90 days). Data: seats used median 3 of 10; "
        f"support tickets per account 2.4; feature adoption: reports 71%, integrations 18%. Recommend actions."
    )
    answer = (
        f"Churn in {cohort} is concentrated in accounts that never connected an integration (18% adoption). "
        "Low seat usage points to single-champion accounts. Recommended: guided integration setup in week 1, "
        "a seat-invite nudge at day 10, and proactive outreach after the second support ticket."
    )
    return _user(ask, "You are a careful data analyst. Think step by step.") | {"model": model}, {
        "content": answer
    }


GENERATORS: dict[str, Callable[[random.Random, str], Payload]] = {
    "classify-ticket": classify,
    "extract-invoice": extract,
    "faq-answer": faq,
    "summarise-thread": summarise,
    "draft-email": draft_email,
    "codegen": codegen,
    "sql-generation": sql,
    "complex-analysis": analysis,
}
