"""A scripted intake model for the fake Messages API: it plays the model's side of an eight-section intake.

It reads the request as the real model would (the `<intake_state>` block and
the last user turn) and answers with the intake's tools: after an answer it
records the current section with sample data, after a recorded section it
asks about the next one, and when all are recorded it finishes. Used by the
tests and by `bench/intake_cost.py`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fixtures.anthropic import RecordedRequest, Reply, Scripted, tool_call

SAMPLE: dict[str, dict[str, Any]] = {
    "product_intent": {
        "name": "Shelf",
        "summary": "Shelf lets a small library lend books and track who has which one.",
        "target_users": ["Volunteer librarians", "Members borrowing books"],
        "core_features": ["Catalogue of books", "Loans with due dates", "Overdue reminders by email"],
        "non_goals": ["Payments"],
    },
    "tech_stack": {
        "language": "python",
        "language_version": "3.12",
        "backend_framework": "FastAPI",
        "frontend_framework": "React",
        "database": "PostgreSQL",
        "test_framework": "pytest",
        "dependency_file": "pyproject.toml",
        "libraries": ["SQLAlchemy", "httpx"],
    },
    "database_schema": {
        "tables": [
            {
                "name": "books",
                "purpose": "The catalogue",
                "columns": [
                    {"name": "id", "type": "bigserial", "constraints": "primary key"},
                    {"name": "title", "type": "text", "constraints": "not null"},
                    {"name": "isbn", "type": "text", "constraints": "unique"},
                ],
            },
            {
                "name": "loans",
                "purpose": "Who borrowed which book until when",
                "columns": [
                    {"name": "id", "type": "bigserial", "constraints": "primary key"},
                    {"name": "book_id", "type": "bigint", "constraints": "references books(id)"},
                    {"name": "member_email", "type": "text", "constraints": "not null"},
                    {"name": "due_on", "type": "date", "constraints": "not null"},
                ],
            },
        ]
    },
    "api_endpoints": {
        "router_dirs": ["app/api"],
        "endpoints": [
            {"method": "GET", "path": "/health", "summary": "Liveness", "auth": False},
            {"method": "GET", "path": "/books", "summary": "List books", "auth": False},
            {"method": "POST", "path": "/books", "summary": "Add a book", "auth": True},
            {"method": "GET", "path": "/books/{book_id}", "summary": "One book", "auth": False},
            {"method": "POST", "path": "/loans", "summary": "Lend a book", "auth": True},
            {"method": "DELETE", "path": "/loans/{loan_id}", "summary": "Return a book", "auth": True},
        ],
    },
    "ui_requirements": {
        "kind": "web",
        "screens": [
            {"name": "Catalogue", "route": "/", "purpose": "Search and browse books"},
            {"name": "Loans", "route": "/loans", "purpose": "Open loans, overdue first"},
        ],
        "style": "Plain, readable, large type; works on a phone.",
    },
    "architectural_boundaries": {
        "layers": [
            {
                "name": "api",
                "description": "HTTP handlers",
                "glob": "app/api/**",
                "forbidden": [{"pattern": "\\bSELECT\\b", "reason": "SQL lives in repositories"}],
            },
            {
                "name": "repositories",
                "description": "Database access",
                "glob": "app/repositories/**",
                "forbidden": [{"import": "fastapi", "reason": "no web framework in data access"}],
            },
        ]
    },
    "deployment_target": {
        "platform": "Render",
        "run_command": "uvicorn app.main:app --host 0.0.0.0 --port $PORT",
        "environment_variables": [{"name": "DATABASE_URL", "purpose": "PostgreSQL connection string"}],
    },
    "phase_breakdown": {
        "phases": [
            {
                "number": 0,
                "name": "Genesis",
                "objective": "Skeleton that boots and serves /health.",
                "deliverables": ["GET /health", "One test"],
                "exit_criteria": ["pytest passes", "The audit passes"],
            },
            {
                "number": 1,
                "name": "Catalogue and loans",
                "objective": "Books and loans through the API.",
                "deliverables": ["books and loans tables", "The endpoints of physics.yaml"],
                "exit_criteria": ["Every endpoint has a test", "The audit passes"],
            },
        ]
    },
}

ORDER = list(SAMPLE)
QUESTIONS = {
    key: [
        {
            "question": f"What should {key.replace('_', ' ')} look like for this project?",
            "suggested_default": "as usual",
        },
        {"question": "Anything to rule out?"},
    ]
    for key in ORDER
}


def intake_state(request: RecordedRequest) -> dict[str, Any]:
    """The `<intake_state>` the engine sent in the first user message."""
    for text in request.user_texts():
        match = re.search(r"<intake_state>\n(.*?)\n</intake_state>", text, re.S)
        if match:
            state: dict[str, Any] = json.loads(match.group(1))
            return state
    raise AssertionError("no <intake_state> in the request")


PROSE = {
    "overview": "Shelf is a lending library for a small community: a catalogue, loans and reminders, "
    "served by a FastAPI backend over PostgreSQL with a small React frontend.",
    "principles": [
        {"title": "Small first", "text": "Ship the smallest thing that lends a book."},
        {"title": "Never lose a loan", "text": "Loan records are the one thing that must survive anything."},
        {"title": "Plain", "text": "Readable code over clever code."},
    ],
}


def scripted_model(request: RecordedRequest) -> Scripted:
    """The next move of a cooperative model that answers every section with SAMPLE (and writes prose)."""
    if request.tool_names == ["write_prose"]:
        return tool_call("write_prose", PROSE)
    state = intake_state(request)
    results = request.tool_results()
    recorded_now = [r for r in results if str(r.get("content", "")).startswith("Recorded")]
    current = state["current_section"]
    if results and recorded_now:
        text = str(recorded_now[-1]["content"])
        match = re.search(r"Next section: `(\w+)`", text)
        if match is None:
            return tool_call("finish", {"summary": "All recorded."})
        return ask(match.group(1))
    if results:  # an error came back: try the sample again
        return record(current)
    if "<answer>" in request.last_user_text() and current is not None:
        return record(current)
    return ask(current)


def record(section: str, data: dict[str, Any] | None = None) -> Reply:
    return tool_call(
        "record_section",
        {
            "section": section,
            "data": SAMPLE[section] if data is None else data,
            "understood": f"{section} noted",
        },
    )


def ask(section: str) -> Reply:
    return tool_call("ask_questions", {"section": section, "questions": QUESTIONS[section]})
