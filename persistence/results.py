"""Plain-language explanations of tests by LOINC code: the catalog shipped with the demo
(`portal seed` publishes it) and what the EHR feed adds (RESULT_EXPLANATION_UPDATED)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import models as m
from persistence.paging import one_of

MEDLINE = "https://medlineplus.gov/lab-tests/"

# LOINC code -> (explanation, link for more). Panels and their components.
CATALOG: dict[str, tuple[str, str | None]] = {
    "24331-1": (
        "A lipid panel measures fats in your blood: cholesterol and triglycerides. High "
        "levels can raise the risk of heart disease.",
        MEDLINE + "cholesterol-levels/",
    ),
    "2093-3": ("Total cholesterol: all the cholesterol in your blood.", None),
    "2571-8": ("Triglycerides: a type of fat in the blood, from food and stored energy.", None),
    "2085-9": ('HDL is the "good" cholesterol: higher levels are usually better.', None),
    "13457-7": ('LDL is the "bad" cholesterol: it can build up in your arteries.', None),
    "58410-2": (
        "A complete blood count measures your red cells, white cells and platelets. It can "
        "show anemia, infection and other conditions.",
        MEDLINE + "complete-blood-count-cbc/",
    ),
    "718-7": ("Hemoglobin carries oxygen in your red blood cells; low levels mean anemia.", None),
    "6690-2": ("White blood cells fight infection; high counts can mean an infection.", None),
    "777-3": ("Platelets help your blood clot.", None),
    "51990-0": (
        "A basic metabolic panel checks blood sugar, salts (electrolytes) and how well your "
        "kidneys work.",
        MEDLINE + "basic-metabolic-panel-bmp/",
    ),
    "24323-8": (
        "A comprehensive metabolic panel checks blood sugar, electrolytes, kidney and liver "
        "function.",
        MEDLINE + "comprehensive-metabolic-panel-cmp/",
    ),
    "2345-7": (
        "Glucose is the sugar in your blood. High levels can be a sign of diabetes.",
        MEDLINE + "blood-glucose-test/",
    ),
    "2160-0": ("Creatinine is a waste product your kidneys filter out of the blood.", None),
    "2951-2": ("Sodium helps balance fluids in your body.", None),
    "2823-3": ("Potassium helps your nerves and muscles, including your heart, work.", None),
    "4548-4": (
        "Hemoglobin A1c shows your average blood sugar over the past 2 to 3 months.",
        MEDLINE + "hemoglobin-a1c-hba1c-test/",
    ),
    "3016-3": ("TSH shows how well your thyroid gland is working.", None),
    "62292-8": ("Vitamin D keeps your bones strong.", None),
}


async def publish(
    session: AsyncSession, code: str, text: str, more_url: str | None, source: str, now: datetime
) -> None:
    """Add or replace the explanation of one code."""
    row = await session.get(m.ResultExplanation, code)
    if row is None:
        session.add(
            m.ResultExplanation(
                code=code, text=text, more_url=more_url, source=source, updated_at=now
            )
        )
    else:
        row.text, row.more_url, row.source, row.updated_at = text, more_url, source, now
    await session.flush()


async def publish_catalog(session: AsyncSession, now: datetime) -> None:
    for code, (text, url) in CATALOG.items():
        await publish(session, code, text, url, "catalog", now)


BY_CODE = select(m.ResultExplanation).where(one_of(m.ResultExplanation.code, "codes"))


async def by_code(session: AsyncSession, codes: Sequence[str]) -> list[m.ResultExplanation]:
    return list((await session.scalars(BY_CODE, {"codes": list(codes)})).all())
