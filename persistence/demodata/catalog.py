"""Static reference data used by the generator.

Everything here is fictional demo material except the clinical code systems,
which use real codes so that the data looks like what a portal receives:

* LOINC codes for lab panels, lab components and imaging studies,
* CVX codes for vaccines,
* ICD-10-CM codes for problems,
* CPT/HCPCS procedure codes for statement line items.

Reference ranges are typical adult ranges and are plausible, not authoritative.
Phone numbers use the fictional 555-01xx range and e-mail addresses use the
reserved example.com/.org/.net domains.

Changing anything in this module changes the generated data for every seed;
bump ``FORMAT_VERSION`` in ``generator.py`` when you do.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

# --------------------------------------------------------------------------
# Portal scopes and enumerations
# --------------------------------------------------------------------------

SCOPES = ("appointments", "results", "messages", "billing", "health_summary", "medications")
# Clinical notes came later: full grants name it, random partial grants still draw from
# SCOPES (so their random streams, and every other record, stayed the same).
CLINICAL_NOTES_SCOPE = "clinical_notes"
GRANTABLE_SCOPES = (*SCOPES, CLINICAL_NOTES_SCOPE)
FULL_SCOPES = list(GRANTABLE_SCOPES)
# Adolescents (12-17) keep results and messages private from their parents.
ADOLESCENT_SCOPES = ["appointments", "billing", "health_summary", "medications"]

APPOINTMENT_STATUSES = ("scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show")
RESULT_STATUSES = ("preliminary", "final", "corrected")
GRANT_STATUSES = ("active", "revoked", "pending")
RELATIONSHIPS = ("parent", "guardian", "caregiver", "spouse")
THREAD_CATEGORIES = ("medical_question", "refill", "billing", "scheduling")
PAYMENT_METHODS = ("card", "bank_account", "hsa_card", "check")

# --------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------

# (city, postal_code, area_code)
TOWNS = [
    ("Worcester", "01605", "508"),
    ("Worcester", "01609", "508"),
    ("Shrewsbury", "01545", "508"),
    ("Marlborough", "01752", "508"),
    ("Leominster", "01453", "978"),
    ("Fitchburg", "01420", "978"),
    ("Clinton", "01510", "978"),
    ("Southbridge", "01550", "508"),
    ("Auburn", "01501", "508"),
    ("Holden", "01520", "508"),
    ("Westborough", "01581", "508"),
    ("Grafton", "01519", "508"),
    ("Leicester", "01524", "508"),
    ("Millbury", "01527", "508"),
    ("Spencer", "01562", "508"),
    ("Gardner", "01440", "978"),
]

STREETS = [
    "Pleasant St",
    "Main St",
    "Park Ave",
    "Highland St",
    "Chandler St",
    "Grove St",
    "Salisbury St",
    "Maple Ave",
    "Elm St",
    "Oak Hill Rd",
    "Lincoln St",
    "Shrewsbury St",
    "June St",
    "Mill St",
    "Water St",
    "Cedar St",
    "Church St",
    "School St",
    "Union Ave",
    "Prospect St",
    "Summer St",
    "Winter St",
    "Hillside Dr",
    "Lakeview Dr",
    "Birch Rd",
    "Brook St",
    "Forest St",
    "Orchard Ln",
    "Meadow Ln",
    "Sunset Ave",
]

# Facilities loosely modelled on a central-Massachusetts academic health system.
# (key, facility name, street address, city, postal_code, area_code)
FACILITIES = [
    (
        "univ",
        "Memorial Medical Center - University Campus",
        "50 Lake Ave N",
        "Worcester",
        "01655",
        "508",
    ),
    (
        "mem",
        "Memorial Medical Center - Memorial Campus",
        "120 Belmont St",
        "Worcester",
        "01605",
        "508",
    ),
    (
        "hahn",
        "Memorial Medical Center - Hahnemann Campus",
        "280 Lincoln St",
        "Worcester",
        "01605",
        "508",
    ),
    (
        "shrews",
        "Memorial Community Health - Shrewsbury",
        "1 Lyman St",
        "Shrewsbury",
        "01545",
        "508",
    ),
    ("marl", "Memorial Marlborough Hospital", "150 Union St", "Marlborough", "01752", "508"),
    (
        "leom",
        "Memorial HealthAlliance - Leominster",
        "64 Hospital Rd",
        "Leominster",
        "01453",
        "978",
    ),
    ("south", "Memorial Harrington Hospital", "102 South St", "Southbridge", "01550", "508"),
]

# (department name, facility key, specialty)
DEPARTMENTS = [
    ("Primary Care - Benedict Building", "univ", "Internal Medicine"),
    ("Family Medicine - Hahnemann", "hahn", "Family Medicine"),
    ("Primary Care - Shrewsbury", "shrews", "Internal Medicine"),
    ("Family Medicine - Marlborough", "marl", "Family Medicine"),
    ("Primary Care - Leominster", "leom", "Internal Medicine"),
    ("Family Medicine - Southbridge", "south", "Family Medicine"),
    ("Pediatrics - Children's Medical Center", "mem", "Pediatrics"),
    ("Pediatrics - Shrewsbury", "shrews", "Pediatrics"),
    ("Cardiology", "univ", "Cardiology"),
    ("Diabetes and Endocrinology", "mem", "Endocrinology"),
    ("Obstetrics and Gynecology", "mem", "Obstetrics and Gynecology"),
    ("Orthopedics and Sports Medicine", "hahn", "Orthopedics"),
    ("Dermatology", "hahn", "Dermatology"),
    ("Pulmonary Medicine", "univ", "Pulmonology"),
    ("Gastroenterology", "univ", "Gastroenterology"),
    ("Neurology", "univ", "Neurology"),
    ("Behavioral Health", "shrews", "Behavioral Health"),
    ("Allergy and Immunology", "marl", "Allergy and Immunology"),
    ("Urgent Care - Leominster", "leom", "Urgent Care"),
    ("Radiology", "univ", "Radiology"),
]

PRIMARY_CARE_SPECIALTIES = ("Internal Medicine", "Family Medicine")

# What an appointment with a provider of that specialty is booked as.
VISIT_TYPES = {
    "Internal Medicine": [
        ("Office Visit", 20),
        ("Follow-Up", 20),
        ("Annual Physical", 40),
        ("Telehealth Visit", 20),
    ],
    "Family Medicine": [
        ("Office Visit", 20),
        ("Follow-Up", 20),
        ("Annual Physical", 40),
        ("Telehealth Visit", 20),
    ],
    "Pediatrics": [
        ("Well Child", 30),
        ("Sick Visit", 20),
        ("Follow-Up", 20),
        ("Telehealth Visit", 20),
    ],
    "Urgent Care": [("Urgent Care Visit", 30)],
    "Radiology": [("Imaging", 30)],
    "Behavioral Health": [("Therapy Session", 50), ("Follow-Up", 30), ("Telehealth Visit", 30)],
    "_specialist": [("New Patient", 60), ("Follow-Up", 30), ("Telehealth Visit", 30)],
}

VISIT_REASONS = {
    "Office Visit": [
        "Cough",
        "Back pain",
        "Sore throat",
        "Rash",
        "Headache",
        "Fatigue",
        "Knee pain",
        "Dizziness",
    ],
    "Follow-Up": [
        "Blood pressure check",
        "Medication review",
        "Lab review",
        "Diabetes follow-up",
        "Recheck",
    ],
    "Annual Physical": ["Annual preventive visit"],
    "Telehealth Visit": [
        "Medication question",
        "Follow-up discussion",
        "Cold symptoms",
        "Anxiety follow-up",
    ],
    "Well Child": ["Well child check"],
    "Sick Visit": ["Fever", "Ear pain", "Cough", "Stomach ache"],
    "Urgent Care Visit": ["Ankle sprain", "Laceration", "Flu-like symptoms", "Urinary symptoms"],
    "Imaging": ["Screening imaging", "Chest imaging"],
    "Therapy Session": ["Counseling session"],
    "New Patient": ["Referral consultation", "New patient evaluation"],
}

# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------

GIVEN_NAMES_FEMALE = [
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Elizabeth",
    "Sofia",
    "Madison",
    "Avery",
    "Ella",
    "Scarlett",
    "Grace",
    "Chloe",
    "Victoria",
    "Riley",
    "Aria",
    "Lily",
    "Aubrey",
    "Zoey",
    "Penelope",
    "Layla",
    "Nora",
    "Hannah",
    "Margaret",
    "Patricia",
    "Jennifer",
    "Linda",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Lisa",
    "Maria",
    "Ana",
    "Guadalupe",
    "Rosa",
    "Mei",
    "Priya",
    "Aisha",
    "Fatima",
    "Nguyet",
    "Chiara",
    "Zoë",
    "Renée",
    "Siobhan",
    "Ngozi",
    "Keiko",
    "Dorothy",
    "Helen",
    "Ruth",
    "Joan",
    "Carol",
]
GIVEN_NAMES_MALE = [
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Alexander",
    "Mason",
    "Michael",
    "Ethan",
    "Daniel",
    "Jacob",
    "Logan",
    "Jackson",
    "Levi",
    "Sebastian",
    "Mateo",
    "Jack",
    "Owen",
    "Theodore",
    "Aiden",
    "Samuel",
    "Joseph",
    "John",
    "David",
    "Wyatt",
    "Matthew",
    "Robert",
    "Richard",
    "Thomas",
    "Charles",
    "Christopher",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "José",
    "Luis",
    "Carlos",
    "Juan",
    "Wei",
    "Raj",
    "Omar",
    "Minh",
    "Kwame",
    "Giovanni",
    "André",
    "Seán",
    "Hiroshi",
    "Dmitri",
    "Tomás",
    "Walter",
    "Harold",
    "Frank",
    "Raymond",
    "George",
]

NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Richard": "Rick",
    "Elizabeth": "Liz",
    "Margaret": "Peggy",
    "Patricia": "Patty",
    "Jennifer": "Jen",
    "Christopher": "Chris",
    "Alexander": "Alex",
    "Benjamin": "Ben",
    "Michael": "Mike",
    "Matthew": "Matt",
    "Theodore": "Teddy",
    "Samuel": "Sam",
    "Joseph": "Joe",
    "Daniel": "Dan",
    "Anthony": "Tony",
    "Thomas": "Tom",
    "Charles": "Charlie",
    "Victoria": "Tori",
    "Abigail": "Abby",
    "Isabella": "Bella",
    "Penelope": "Penny",
    "Susan": "Sue",
    "Dorothy": "Dot",
    "Raymond": "Ray",
    "Jessica": "Jess",
    "Madison": "Maddie",
    "Steven": "Steve",
}

FAMILY_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "O'Brien",
    "Sullivan",
    "Murphy",
    "Kelly",
    "McCarthy",
    "Fitzgerald",
    "Doherty",
    "Rossi",
    "Ferreira",
    "Santos",
    "Oliveira",
    "Costa",
    "Pereira",
    "Nowak",
    "Kowalski",
    "Patel",
    "Shah",
    "Chen",
    "Wang",
    "Kim",
    "Tran",
    "Pham",
    "Okafor",
    "Mensah",
    "Haddad",
    "Cohen",
    "Goldberg",
    "Dubois",
    "Lefebvre",
    "Bergström",
    "Müller",
    "Schmidt",
    "Núñez",
    "Peña",
    "Yamamoto",
    "Sato",
    "Ivanov",
    "Popescu",
    "Murray",
    "Walsh",
]

PROVIDER_CREDENTIALS = [("MD", 60), ("DO", 15), ("NP", 15), ("PA", 10)]

PHARMACIES = [
    "CVS Pharmacy #0412 - Park Ave, Worcester",
    "CVS Pharmacy #1187 - Boston Tpke, Shrewsbury",
    "Walgreens #5531 - Main St, Worcester",
    "Walgreens #7702 - Lincoln St, Marlborough",
    "Price Chopper Pharmacy - Gold Star Blvd, Worcester",
    "Stop & Shop Pharmacy - Grafton St, Worcester",
    "Memorial Outpatient Pharmacy - University Campus",
    "Hannaford Pharmacy - Commercial Rd, Leominster",
    "Walmart Pharmacy - Solomon Pond Rd, Marlborough",
    "Mail order: Express Scripts",
]

# --------------------------------------------------------------------------
# Problems (ICD-10-CM), medications, allergies
# --------------------------------------------------------------------------

# key -> (display name, ICD-10-CM code)
PROBLEMS = {
    "htn": ("Essential (primary) hypertension", "I10"),
    "hld": ("Hyperlipidemia, unspecified", "E78.5"),
    "t2dm": ("Type 2 diabetes mellitus without complications", "E11.9"),
    "hypothyroid": ("Hypothyroidism, unspecified", "E03.9"),
    "asthma": ("Unspecified asthma, uncomplicated", "J45.909"),
    "gad": ("Generalized anxiety disorder", "F41.1"),
    "depression": ("Major depressive disorder, single episode, unspecified", "F32.9"),
    "gerd": ("Gastro-esophageal reflux disease without esophagitis", "K21.9"),
    "obesity": ("Obesity, unspecified", "E66.9"),
    "oa_knee": ("Unilateral primary osteoarthritis, right knee", "M17.11"),
    "afib": ("Unspecified atrial fibrillation", "I48.91"),
    "ckd3": ("Chronic kidney disease, stage 3 unspecified", "N18.30"),
    "vitd": ("Vitamin D deficiency, unspecified", "E55.9"),
    "migraine": ("Migraine, unspecified, not intractable, without status migrainosus", "G43.909"),
    "rhinitis": ("Allergic rhinitis, unspecified", "J30.9"),
    "adhd": ("Attention-deficit hyperactivity disorder, unspecified type", "F90.9"),
    "eczema": ("Atopic dermatitis, unspecified", "L20.9"),
    "lbp": ("Low back pain, unspecified", "M54.50"),
    "osa": ("Obstructive sleep apnea (adult) (pediatric)", "G47.33"),
}

# problem key -> list of (medication name, dose, route, frequency, controlled)
MEDICATIONS_FOR = {
    "htn": [
        ("Lisinopril 10 mg tablet", "10 mg", "oral", "Once daily", False),
        ("Amlodipine 5 mg tablet", "5 mg", "oral", "Once daily", False),
        ("Losartan 50 mg tablet", "50 mg", "oral", "Once daily", False),
    ],
    "hld": [
        ("Atorvastatin 20 mg tablet", "20 mg", "oral", "Once daily at bedtime", False),
        ("Rosuvastatin 10 mg tablet", "10 mg", "oral", "Once daily", False),
    ],
    "t2dm": [
        ("Metformin 500 mg tablet", "1000 mg", "oral", "Twice daily with meals", False),
        ("Metformin ER 750 mg tablet", "1500 mg", "oral", "Once daily with evening meal", False),
    ],
    "hypothyroid": [
        ("Levothyroxine 75 mcg tablet", "75 mcg", "oral", "Once daily before breakfast", False)
    ],
    "asthma": [
        (
            "Albuterol HFA 90 mcg/actuation inhaler",
            "2 puffs",
            "inhalation",
            "Every 4-6 hours as needed",
            False,
        ),
        ("Fluticasone 110 mcg/actuation inhaler", "2 puffs", "inhalation", "Twice daily", False),
    ],
    "gad": [("Sertraline 50 mg tablet", "50 mg", "oral", "Once daily", False)],
    "depression": [
        ("Escitalopram 10 mg tablet", "10 mg", "oral", "Once daily", False),
        ("Bupropion XL 150 mg tablet", "150 mg", "oral", "Once daily in the morning", False),
    ],
    "gerd": [("Omeprazole 20 mg capsule", "20 mg", "oral", "Once daily before breakfast", False)],
    "afib": [
        ("Apixaban 5 mg tablet", "5 mg", "oral", "Twice daily", False),
        ("Metoprolol succinate ER 25 mg tablet", "25 mg", "oral", "Once daily", False),
    ],
    "vitd": [
        (
            "Cholecalciferol (vitamin D3) 50 mcg (2,000 unit) capsule",
            "50 mcg",
            "oral",
            "Once daily",
            False,
        )
    ],
    "oa_knee": [("Meloxicam 15 mg tablet", "15 mg", "oral", "Once daily with food", False)],
    "migraine": [
        (
            "Sumatriptan 50 mg tablet",
            "50 mg",
            "oral",
            "At migraine onset; may repeat once after 2 hours",
            False,
        )
    ],
    "rhinitis": [
        ("Cetirizine 10 mg tablet", "10 mg", "oral", "Once daily", False),
        (
            "Fluticasone propionate 50 mcg/actuation nasal spray",
            "1 spray each nostril",
            "nasal",
            "Once daily",
            False,
        ),
    ],
    "adhd": [
        ("Methylphenidate ER 18 mg tablet", "18 mg", "oral", "Once daily in the morning", True)
    ],
    "eczema": [
        (
            "Triamcinolone 0.1% cream",
            "Thin layer",
            "topical",
            "Twice daily to affected areas",
            False,
        )
    ],
    "lbp": [("Cyclobenzaprine 5 mg tablet", "5 mg", "oral", "At bedtime as needed", False)],
    "ckd3": [],
    "obesity": [],
    "osa": [],
}

# (substance, category, [reactions])
ALLERGENS = [
    ("Penicillin", "medication", ["Hives", "Rash", "Anaphylaxis"]),
    ("Amoxicillin", "medication", ["Rash", "Hives"]),
    ("Sulfamethoxazole-trimethoprim", "medication", ["Rash", "Itching"]),
    ("Codeine", "medication", ["Nausea", "Vomiting"]),
    ("Ibuprofen", "medication", ["Hives", "Swelling"]),
    ("Lisinopril", "medication", ["Cough", "Angioedema"]),
    ("Peanuts", "food", ["Hives", "Anaphylaxis", "Throat tightness"]),
    ("Tree nuts", "food", ["Hives", "Swelling"]),
    ("Shellfish", "food", ["Hives", "Vomiting"]),
    ("Eggs", "food", ["Rash", "Vomiting"]),
    ("Latex", "environment", ["Rash", "Itching"]),
    ("Bee venom", "environment", ["Swelling", "Anaphylaxis"]),
    ("Cat dander", "environment", ["Sneezing", "Wheezing"]),
    ("Dust mites", "environment", ["Sneezing", "Congestion"]),
    ("Seasonal pollen", "environment", ["Congestion", "Itchy eyes"]),
]

# --------------------------------------------------------------------------
# Laboratory catalog (LOINC)
# --------------------------------------------------------------------------

#: A reference range ``(low, high)``; either bound may be ``None``.
RefRange = tuple[float | None, float | None]


class Analyte(TypedDict):
    """One lab component: LOINC code, display name, unit, population mean/sd
    (``sd == 0`` marks a value derived from other analytes), decimals reported,
    and either ``ref`` or the sex-specific ``ref_f``/``ref_m`` ranges."""

    loinc: str
    name: str
    unit: str
    mean: float
    sd: float
    decimals: int
    ref: NotRequired[RefRange]
    ref_f: NotRequired[RefRange]
    ref_m: NotRequired[RefRange]


# Analyte definitions: key -> dict(loinc, name, unit, mean, sd, decimals, ref_low, ref_high)
# Sex-specific ranges use "ref_f"/"ref_m" tuples.
ANALYTES: dict[str, Analyte] = {
    # Lipid panel
    "chol": dict(
        loinc="2093-3",
        name="Cholesterol, Total",
        unit="mg/dL",
        mean=190,
        sd=30,
        decimals=0,
        ref=(None, 199),
    ),
    "trig": dict(
        loinc="2571-8",
        name="Triglycerides",
        unit="mg/dL",
        mean=120,
        sd=45,
        decimals=0,
        ref=(None, 149),
    ),
    "hdl": dict(
        loinc="2085-9",
        name="HDL Cholesterol",
        unit="mg/dL",
        mean=55,
        sd=12,
        decimals=0,
        ref=(40, None),
    ),
    "ldl": dict(
        loinc="13457-7",
        name="LDL Cholesterol (calculated)",
        unit="mg/dL",
        mean=0,
        sd=0,
        decimals=0,
        ref=(None, 99),
    ),
    "nonhdl": dict(
        loinc="43396-1",
        name="Non-HDL Cholesterol",
        unit="mg/dL",
        mean=0,
        sd=0,
        decimals=0,
        ref=(None, 129),
    ),
    # CBC
    "wbc": dict(
        loinc="6690-2", name="WBC", unit="10*3/uL", mean=6.8, sd=1.6, decimals=1, ref=(4.0, 11.0)
    ),
    "rbc": dict(
        loinc="789-8",
        name="RBC",
        unit="10*6/uL",
        mean=4.7,
        sd=0.4,
        decimals=2,
        ref_f=(3.90, 5.10),
        ref_m=(4.50, 5.90),
    ),
    "hgb": dict(
        loinc="718-7",
        name="Hemoglobin",
        unit="g/dL",
        mean=14.0,
        sd=1.2,
        decimals=1,
        ref_f=(12.0, 15.5),
        ref_m=(13.5, 17.5),
    ),
    "hct": dict(
        loinc="4544-3",
        name="Hematocrit",
        unit="%",
        mean=42,
        sd=3.5,
        decimals=1,
        ref_f=(36.0, 46.0),
        ref_m=(41.0, 50.0),
    ),
    "mcv": dict(loinc="787-2", name="MCV", unit="fL", mean=0, sd=0, decimals=1, ref=(80.0, 100.0)),
    "mch": dict(loinc="785-6", name="MCH", unit="pg", mean=0, sd=0, decimals=1, ref=(27.0, 33.0)),
    "mchc": dict(
        loinc="786-4", name="MCHC", unit="g/dL", mean=0, sd=0, decimals=1, ref=(32.0, 36.0)
    ),
    "rdw": dict(
        loinc="788-0", name="RDW", unit="%", mean=13.1, sd=0.8, decimals=1, ref=(11.5, 14.5)
    ),
    "plt": dict(
        loinc="777-3", name="Platelets", unit="10*3/uL", mean=250, sd=55, decimals=0, ref=(150, 400)
    ),
    # Chemistry
    "glu": dict(
        loinc="2345-7", name="Glucose", unit="mg/dL", mean=92, sd=10, decimals=0, ref=(70, 99)
    ),
    "bun": dict(
        loinc="3094-0",
        name="Urea Nitrogen (BUN)",
        unit="mg/dL",
        mean=14,
        sd=4,
        decimals=0,
        ref=(7, 20),
    ),
    "creat": dict(
        loinc="2160-0",
        name="Creatinine",
        unit="mg/dL",
        mean=0.9,
        sd=0.15,
        decimals=2,
        ref_f=(0.59, 1.04),
        ref_m=(0.74, 1.35),
    ),
    "egfr": dict(
        loinc="98979-8",
        name="eGFR (CKD-EPI 2021)",
        unit="mL/min/1.73m2",
        mean=0,
        sd=0,
        decimals=0,
        ref=(60, None),
    ),
    "na": dict(
        loinc="2951-2", name="Sodium", unit="mmol/L", mean=140, sd=2, decimals=0, ref=(136, 145)
    ),
    "k": dict(
        loinc="2823-3",
        name="Potassium",
        unit="mmol/L",
        mean=4.2,
        sd=0.35,
        decimals=1,
        ref=(3.5, 5.1),
    ),
    "cl": dict(
        loinc="2075-0", name="Chloride", unit="mmol/L", mean=102, sd=2.5, decimals=0, ref=(98, 107)
    ),
    "co2": dict(
        loinc="2028-9",
        name="Carbon Dioxide (CO2)",
        unit="mmol/L",
        mean=25,
        sd=2,
        decimals=0,
        ref=(22, 29),
    ),
    "ca": dict(
        loinc="17861-6",
        name="Calcium",
        unit="mg/dL",
        mean=9.4,
        sd=0.35,
        decimals=1,
        ref=(8.6, 10.3),
    ),
    "alb": dict(
        loinc="1751-7", name="Albumin", unit="g/dL", mean=4.3, sd=0.3, decimals=1, ref=(3.5, 5.0)
    ),
    "tp": dict(
        loinc="2885-2",
        name="Protein, Total",
        unit="g/dL",
        mean=7.0,
        sd=0.45,
        decimals=1,
        ref=(6.0, 8.3),
    ),
    "alt": dict(loinc="1742-6", name="ALT", unit="U/L", mean=24, sd=9, decimals=0, ref=(7, 56)),
    "ast": dict(loinc="1920-8", name="AST", unit="U/L", mean=22, sd=7, decimals=0, ref=(10, 40)),
    "alp": dict(
        loinc="6768-6",
        name="Alkaline Phosphatase",
        unit="U/L",
        mean=75,
        sd=20,
        decimals=0,
        ref=(44, 147),
    ),
    "tbil": dict(
        loinc="1975-2",
        name="Bilirubin, Total",
        unit="mg/dL",
        mean=0.6,
        sd=0.2,
        decimals=1,
        ref=(0.1, 1.2),
    ),
    # Single-analyte tests
    "a1c": dict(
        loinc="4548-4",
        name="Hemoglobin A1c",
        unit="%",
        mean=5.3,
        sd=0.3,
        decimals=1,
        ref=(4.0, 5.6),
    ),
    "eag": dict(
        loinc="27353-2",
        name="Estimated Average Glucose",
        unit="mg/dL",
        mean=0,
        sd=0,
        decimals=0,
        ref=(None, None),
    ),
    "tsh": dict(
        loinc="3016-3", name="TSH", unit="mIU/L", mean=2.0, sd=0.8, decimals=2, ref=(0.40, 4.00)
    ),
    "vitd": dict(
        loinc="62292-8",
        name="Vitamin D, 25-Hydroxy",
        unit="ng/mL",
        mean=34,
        sd=10,
        decimals=0,
        ref=(30, 100),
    ),
}

# Lab tests: key -> (display name, LOINC panel/test code, analyte keys in display order, CPT code)
LAB_TESTS = {
    "lipid": ("Lipid Panel", "24331-1", ["chol", "trig", "hdl", "ldl", "nonhdl"], "80061"),
    "cbc": (
        "CBC (Complete Blood Count)",
        "58410-2",
        ["wbc", "rbc", "hgb", "hct", "mcv", "mch", "mchc", "rdw", "plt"],
        "85027",
    ),
    "bmp": (
        "Basic Metabolic Panel",
        "51990-0",
        ["glu", "bun", "creat", "egfr", "na", "k", "cl", "co2", "ca"],
        "80048",
    ),
    "cmp": (
        "Comprehensive Metabolic Panel",
        "24323-8",
        [
            "glu",
            "bun",
            "creat",
            "egfr",
            "na",
            "k",
            "cl",
            "co2",
            "ca",
            "alb",
            "tp",
            "alt",
            "ast",
            "alp",
            "tbil",
        ],
        "80053",
    ),
    "a1c": ("Hemoglobin A1c", "4548-4", ["a1c", "eag"], "83036"),
    "tsh": ("TSH (Thyroid Stimulating Hormone)", "3016-3", ["tsh"], "84443"),
    "vitd": ("Vitamin D, 25-Hydroxy", "62292-8", ["vitd"], "82306"),
}

# Imaging: key -> (display name, LOINC code, CPT code)
IMAGING_TESTS = {
    "cxr": ("XR Chest 2 Views", "36643-5", "71046"),
    "mammo": ("MG Breast Screening", "24606-6", "77067"),
}

# Acute, self-limited problems that appear as "resolved" entries.
ACUTE_PROBLEMS = [
    ("Acute bronchitis, unspecified", "J20.9"),
    ("Acute sinusitis, unspecified", "J01.90"),
    ("Acute pharyngitis, unspecified", "J02.9"),
    ("Urinary tract infection, site not specified", "N39.0"),
    ("Otitis media, unspecified, unspecified ear", "H66.90"),
]

CXR_FINDINGS = [
    (
        "The lungs are clear. The cardiomediastinal silhouette is within normal limits. No pleural effusion or pneumothorax. The visualized osseous structures are unremarkable.",
        "No acute cardiopulmonary process.",
    ),
    (
        "Lungs are well expanded and clear. Heart size is normal. No pleural effusion. Mild degenerative changes of the thoracic spine.",
        "No acute cardiopulmonary abnormality. Mild thoracic spondylosis.",
    ),
    (
        "Minimal bibasilar linear opacities, most consistent with atelectasis. No focal consolidation. No pleural effusion or pneumothorax. Normal heart size.",
        "Minimal bibasilar atelectasis. No pneumonia.",
    ),
    (
        "Patchy opacity in the right lower lobe. No pleural effusion. Cardiomediastinal silhouette is normal.",
        "Right lower lobe opacity, which may represent pneumonia in the appropriate clinical setting. Follow-up radiographs after treatment are recommended.",
    ),
]

MAMMO_FINDINGS = [
    (
        "The breasts are heterogeneously dense, which may obscure small masses. There are no suspicious masses, calcifications, or areas of architectural distortion.",
        "BI-RADS 1: Negative. Routine annual screening mammography is recommended.",
    ),
    (
        "The breasts are scattered areas of fibroglandular density. Stable benign-appearing calcifications in the left breast. No suspicious findings.",
        "BI-RADS 2: Benign. Routine annual screening mammography is recommended.",
    ),
    (
        "The breasts are heterogeneously dense. A possible focal asymmetry is seen in the right breast upper outer quadrant on the craniocaudal view only.",
        "BI-RADS 0: Incomplete. Additional diagnostic mammographic views and possible ultrasound of the right breast are recommended.",
    ),
]

# --------------------------------------------------------------------------
# Immunizations (CVX)
# --------------------------------------------------------------------------

# Childhood schedule: (vaccine display, CVX, [age in months at each dose])
CHILD_VACCINES = [
    ("Hepatitis B, pediatric/adolescent", "08", [0, 2, 6]),
    ("Rotavirus, pentavalent", "116", [2, 4, 6]),
    ("DTaP", "20", [2, 4, 6, 15, 54]),
    ("Hib (PRP-OMP)", "49", [2, 4, 12]),
    ("Pneumococcal conjugate PCV13", "133", [2, 4, 6, 12]),
    ("Polio, inactivated (IPV)", "10", [2, 4, 6, 54]),
    ("MMR", "03", [12, 54]),
    ("Varicella", "21", [12, 54]),
    ("Hepatitis A, pediatric/adolescent, 2 dose", "83", [12, 18]),
    ("Tdap", "115", [132]),
    ("HPV, 9-valent", "165", [132, 138]),
    ("Meningococcal MenACWY-D", "114", [132, 192]),
]
INFLUENZA = ("Influenza, injectable, quadrivalent, preservative free", "150")
COVID = ("COVID-19 vaccine, unspecified formulation", "213")
ADULT_TDAP = ("Tdap", "115")
ZOSTER = ("Zoster vaccine recombinant (Shingrix)", "187")
PPSV23 = ("Pneumococcal polysaccharide PPSV23", "33")
VACCINE_LOT_PREFIXES = ["EK", "FF", "GH", "UT", "PX", "ML", "KT", "3CA", "U7", "AA"]

# --------------------------------------------------------------------------
# Billing (CPT/HCPCS): code -> (description, min charge $, max charge $)
# --------------------------------------------------------------------------

CPT = {
    "99203": ("Office visit, new patient, low complexity", 210, 260),
    "99213": ("Office visit, established patient, low complexity", 165, 230),
    "99214": ("Office visit, established patient, moderate complexity", 250, 320),
    "99395": ("Preventive visit, established patient, age 18-39", 240, 290),
    "99396": ("Preventive visit, established patient, age 40-64", 260, 320),
    "99397": ("Preventive visit, established patient, age 65+", 280, 340),
    "99392": ("Preventive visit, established patient, age 1-4", 200, 250),
    "99393": ("Preventive visit, established patient, age 5-11", 200, 250),
    "99394": ("Preventive visit, established patient, age 12-17", 210, 260),
    "99442": ("Telephone evaluation and management, 11-20 minutes", 90, 130),
    "36415": ("Venipuncture, routine", 15, 25),
    "80061": ("Lipid panel", 65, 95),
    "85027": ("Complete blood count (CBC), automated", 35, 55),
    "80048": ("Basic metabolic panel", 40, 60),
    "80053": ("Comprehensive metabolic panel", 60, 85),
    "83036": ("Hemoglobin A1c", 45, 60),
    "84443": ("Thyroid stimulating hormone (TSH)", 60, 80),
    "82306": ("Vitamin D, 25-hydroxy", 110, 140),
    "71046": ("Radiologic exam, chest, 2 views", 180, 260),
    "77067": ("Screening mammography, bilateral, with CAD", 280, 380),
    "93000": ("Electrocardiogram, complete", 65, 95),
    "90686": ("Influenza vaccine, quadrivalent, preservative free, IM", 35, 45),
    "90471": ("Immunization administration, first vaccine", 25, 35),
    "99051": ("Service during regularly scheduled evening/weekend hours", 30, 45),
    "G0439": ("Annual wellness visit, subsequent", 170, 210),
    "87880": ("Rapid strep test (Streptococcus, group A), immunoassay", 25, 40),
    "81002": ("Urinalysis, non-automated, without microscopy", 10, 20),
    "87804": ("Influenza rapid test, immunoassay", 30, 45),
}
# Point-of-care tests that may be added to a sick visit.
POC_TESTS = ["87880", "81002", "87804"]
VISIT_CPT = {
    "Office Visit": ["99213", "99214"],
    "Follow-Up": ["99213", "99214"],
    "Telehealth Visit": ["99213", "99442"],
    "Sick Visit": ["99213"],
    "Urgent Care Visit": ["99214"],
    "New Patient": ["99203"],
    "Therapy Session": ["99214"],
    "Imaging": ["71046"],
}

# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

THREAD_SUBJECTS = {
    "medical_question": [
        "Question about my lab results",
        "Side effects from new medication",
        "Still feeling sick",
        "Question about my blood pressure readings",
        "Follow-up after my visit",
        "Rash that won't go away",
        "Is this normal?",
        "Question about my diet",
    ],
    "refill": ["Refill request: {med}", "Need a refill of {med}", "Running low on {med}"],
    "billing": [
        "Question about my statement",
        "Charge I don't recognize",
        "Payment plan request",
        "Insurance was not billed",
    ],
    "scheduling": [
        "Need to reschedule my appointment",
        "Can I get an earlier appointment?",
        "Appointment for my annual physical",
        "Referral appointment question",
    ],
}

# The first message of a thread comes from PATIENT_OPENERS, later patient-side
# messages from PATIENT_FOLLOWUPS.
PATIENT_OPENERS = {
    "medical_question": [
        "Hi, I had a question about my recent results. Is there anything I should be worried about?",
        "I started the new medication last week and I've been feeling a bit dizzy in the mornings. Is that expected?",
        "My symptoms haven't improved since the visit. Should I come back in?",
        "My home blood pressure readings have been around 145/90 this week. Should I change anything?",
    ],
    "refill": [
        "Could you please send a refill of {med} to my pharmacy? I have about 5 days left.",
        "My pharmacy says the prescription for {med} has no refills left. Can you renew it?",
    ],
    "billing": [
        "I received a statement for a visit that should have been covered by my insurance. Can you take a look?",
        "Is it possible to set up a payment plan for my balance?",
        "I don't recognize one of the charges on my most recent statement.",
    ],
    "scheduling": [
        "I need to reschedule my upcoming appointment. Are there any openings next week?",
        "Is there anything sooner than what I was offered online?",
    ],
}
PATIENT_FOLLOWUPS = {
    "medical_question": [
        "Thank you for the information. That makes sense.",
        "Following up on my last message - any update?",
        "OK, I will schedule a visit. Thanks.",
    ],
    "refill": [
        "Thank you! I'll pick it up tomorrow.",
        "The pharmacy still doesn't have it - could you check?",
    ],
    "billing": ["Thanks, I appreciate the help.", "Monthly payments of $50 would work for me."],
    "scheduling": [
        "That time works for me, thank you.",
        "Do you have anything in the afternoon instead?",
    ],
}

STAFF_LINES = {
    "medical_question": [
        "Thank you for reaching out. Your results look stable overall; we can review them in more detail at your next visit.",
        "Mild dizziness can happen when starting this medication. Please take it with food and let us know if it continues beyond a week.",
        "If you're not feeling better, please schedule a follow-up visit. If symptoms get worse, go to urgent care.",
        "Please keep a log of your readings for two more weeks and bring it to your next appointment.",
    ],
    "refill": [
        "Your refill of {med} has been sent to your pharmacy.",
        "We have renewed your prescription for {med} with refills. Please schedule a follow-up within 3 months.",
    ],
    "billing": [
        "Thank you for your message. We have resubmitted the claim to your insurance; please disregard the balance until you receive an updated statement.",
        "We can set up a payment plan for you. Please call Patient Financial Services or reply with your preferred monthly amount.",
        "The charge is for laboratory services performed at your last visit. Your insurance applied it to your deductible.",
    ],
    "scheduling": [
        "We have an opening on Tuesday at 9:20 AM. Would that work for you?",
        "You're all set. Your appointment has been moved.",
        "We've added you to the wait list and will contact you if an earlier time opens up.",
    ],
}

CARE_TEAMS = {
    "billing": "Patient Financial Services",
    "scheduling": "Scheduling - Access Center",
}

RESULT_COMMENTS_NORMAL = [
    "Your results are normal. Keep up the good work!",
    "These results look good. No changes to your plan are needed.",
    "Everything looks within the normal range. See you at your next visit.",
]
RESULT_COMMENTS_ABNORMAL = [
    "A few values are slightly outside the normal range. This is not concerning, but we will recheck at your next visit.",
    "Your results show some values that we should discuss. Please schedule a follow-up visit.",
    "Some values are out of range. Please continue your medication and we will repeat the test in 3 months.",
]
