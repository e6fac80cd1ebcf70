"""The demo's questionnaires and consent forms, published by `portal seed` (and by tests
that need them). A health system publishes its own; each new version is a new row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.questionnaires import EnableWhen, Form, FormKind, Item, ItemType, Option
from persistence.questionnaires import Target, publish

HEALTH_HISTORY = Form(
    id="health-history",
    version=2,
    kind=FormKind.QUESTIONNAIRE,
    title="Health history update",
    required=True,
    items=(
        Item("smoker", ItemType.BOOLEAN, "Do you smoke?", required=True),
        Item(
            "packs-per-day",
            ItemType.INTEGER,
            "How many packs a day?",
            required=True,
            minimum=0,
            maximum=10,
            enable_when=EnableWhen("smoker", "true"),
        ),
        Item(
            "pain",
            ItemType.CHOICE,
            "How much pain are you in today?",
            required=True,
            options=(
                Option("none", "None"),
                Option("mild", "Mild"),
                Option("moderate", "Moderate"),
                Option("severe", "Severe"),
            ),
        ),
        Item("last-tetanus", ItemType.DATE, "When was your last tetanus shot?"),
        Item("changes", ItemType.TEXT, "Anything else that changed since your last visit?"),
    ),
)
CONSENT_TO_TREAT = Form(
    id="consent-to-treat",
    version=1,
    kind=FormKind.CONSENT,
    title="Consent to treatment",
    required=True,
    consent_text=(
        "I consent to examination and treatment by the providers of this health system. "
        "I understand that I may ask questions and refuse any treatment at any time."
    ),
)
TELEHEALTH_CONSENT = Form(
    id="telehealth-consent",
    version=1,
    kind=FormKind.CONSENT,
    title="Telehealth consent",
    required=True,
    consent_text=(
        "I agree to receive care by video. I understand its limits, that the visit is not "
        "recorded, and that I can ask for an in-person visit instead."
    ),
)
PHQ2 = Form(
    id="phq-2",
    version=1,
    kind=FormKind.QUESTIONNAIRE,
    title="Mood screening (PHQ-2)",
    required=False,
    items=tuple(
        Item(
            link,
            ItemType.CHOICE,
            text,
            required=True,
            options=(
                Option("0", "Not at all"),
                Option("1", "Several days"),
                Option("2", "More than half the days"),
                Option("3", "Nearly every day"),
            ),
        )
        for link, text in (
            ("interest", "Little interest or pleasure in doing things"),
            ("mood", "Feeling down, depressed or hopeless"),
        )
    ),
)

CATALOG: list[tuple[Form, Target]] = [
    (HEALTH_HISTORY, Target()),
    (CONSENT_TO_TREAT, Target()),
    (TELEHEALTH_CONSENT, Target(visit_type="Telehealth Visit")),
    (PHQ2, Target(visit_type="Annual Physical")),
]


async def publish_catalog(session: AsyncSession, now: datetime) -> None:
    for form, target in CATALOG:
        await publish(session, form, target, now)
