"""Deterministic generator for the patient-portal demo dataset.

Only the Python 3.11 standard library is used.  The output for a given
``(patients, seed, now)`` triple is byte-for-byte identical on every run and
every platform: every random choice comes from a ``random.Random`` seeded with
a string (string seeds are hashed with SHA-512 by CPython, independent of
``PYTHONHASHSEED``), nothing iterates over sets, and all times are computed from
the reference time ``now`` rather than from the wall clock.

Data is generated household by household, so that families share a family
name, an address and proxy-access relationships.  Each household uses its own
random stream, which keeps the members' clinical data stable when code for
later kinds changes.  Records are streamed to one JSON Lines file per kind.

See README.md in this package for the file format.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO, TypedDict, TypeVar
from zoneinfo import ZoneInfo

from . import catalog as C
from . import notes as clinical_notes

FORMAT_VERSION = 2  # 2: clinical_notes.jsonl, and full grants name clinical_notes
DEFAULT_NOW = "2026-11-22T12:00:00Z"
DEFAULT_SEED = 1
#: The one password shared by every demo account.  Stored in plain text in
#: accounts.jsonl on purpose: loaders hash it with the application's own scheme.
DEMO_PASSWORD = "PortalDemo-2026!"  # noqa: S105 - published demo credential, not a secret
#: Clinic hours are laid out in a fixed local time of UTC-5 (US Eastern
#: standard time); all timestamps in the files are UTC.
CLINIC_UTC_OFFSET_HOURS = -5
CLINIC_FIRST_CELL_LOCAL = 8 * 60  # 08:00 local, in minutes
CELL_MINUTES = 30
CELLS_PER_DAY = 17  # 08:00 .. 16:00 local starts
SLOT_DAYS = 30
FUTURE_DAYS = 120

KINDS = (
    "departments",
    "providers",
    "patients",
    "accounts",
    "proxy_grants",
    "appointments",
    "slots",
    "results",
    "message_threads",
    "messages",
    "medications",
    "allergies",
    "problems",
    "immunizations",
    "statements",
    "payments",
    # Optional (added after format 1): a dataset without this file still loads.
    "clinical_notes",
)
#: Kinds a dataset may lack (written by an older generator).
OPTIONAL_KINDS = ("clinical_notes",)
ID_PREFIX = {
    "departments": "dep",
    "providers": "prv",
    "patients": "pat",
    "accounts": "acc",
    "proxy_grants": "pxg",
    "appointments": "apt",
    "slots": "slt",
    "results": "res",
    "message_threads": "thr",
    "messages": "msg",
    "medications": "med",
    "allergies": "alg",
    "problems": "prb",
    "immunizations": "imm",
    "statements": "stm",
    "payments": "pay",
    "clinical_notes": "nte",
}
ID_WIDTH = {"departments": 3, "providers": 5}
# Derived identifiers that are not rows of their own.
LINE_ITEM_PREFIX = "sli"

#: One output record (a JSON object), as written to a ``<kind>.jsonl`` file.
Record = dict[str, Any]
#: A completed visit or lab draw: (start, duration, provider, visit type, reason, orders).
Encounter = tuple[datetime, int, Record, str, str, list[str]]

_T = TypeVar("_T")


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def parse_now(value: str) -> datetime:
    """Parse an ISO-8601 UTC instant such as ``2026-11-22T12:00:00Z``.

    Returns an aware UTC ``datetime``; an instant without a zone is taken as UTC.
    """
    dt = datetime.fromisoformat(value.strip())
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.replace(microsecond=0)


def ts(dt: datetime) -> str:
    """Format a UTC datetime as ISO-8601 with a ``Z`` suffix."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


#: The health system's own zone: birthdays and grant end dates are its dates.
LOCAL_ZONE = ZoneInfo("America/New_York")


def local_midnight(d: date) -> datetime:
    """The first instant of `d` in the health system's zone, in UTC: a grant ending on a
    birthday ends when that day starts there, not at UTC midnight (the evening before, in
    New York)."""
    start = datetime.combine(d, time.min, tzinfo=LOCAL_ZONE)
    return start.astimezone(UTC)


def ascii_slug(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm if ch.isascii() and ch.isalnum()).lower()


def _round(value: float, decimals: int) -> float | int:
    if decimals == 0:
        return round(value)
    return round(value, decimals)


def _weighted(rng: random.Random, pairs: Sequence[tuple[_T, float]]) -> _T:
    items = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(items, weights)[0]


# --------------------------------------------------------------------------
# Output sink
# --------------------------------------------------------------------------


class _Sink:
    """Streams records into one ``<kind>.jsonl`` file per kind."""

    def __init__(self, out_dir: str) -> None:
        os.makedirs(out_dir, exist_ok=True)
        self.out_dir = out_dir
        # Kept open while streaming; closed by close() or by Generator.write() on error.
        self.files: dict[str, TextIO] = {
            kind: open(  # noqa: SIM115
                os.path.join(out_dir, f"{kind}.jsonl"),
                "w",
                encoding="utf-8",
                newline="\n",
                buffering=1 << 20,
            )
            for kind in KINDS
        }
        self.counts = dict.fromkeys(KINDS, 0)
        self.seq = dict.fromkeys(KINDS, 0)
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def new_id(self, kind: str) -> str:
        self.seq[kind] += 1
        return f"{ID_PREFIX[kind]}-{self.seq[kind]:0{ID_WIDTH.get(kind, 7)}d}"

    def emit(self, kind: str, record: Record) -> None:
        self.files[kind].write(self._dumps(record))
        self.files[kind].write("\n")
        self.counts[kind] += 1

    def close(self) -> dict[str, str]:
        digests = {}
        for kind, fh in self.files.items():
            fh.close()
            h = hashlib.sha256()
            with open(os.path.join(self.out_dir, f"{kind}.jsonl"), "rb") as rf:
                for chunk in iter(lambda: rf.read(1 << 20), b""):
                    h.update(chunk)
            digests[kind] = h.hexdigest()
        return digests


# --------------------------------------------------------------------------
# In-memory people and households
# --------------------------------------------------------------------------


@dataclass
class _Member:
    """One planned person of a household (a patient, or a proxy-only account)."""

    role: str  # adult | child | elder | proxy_only
    age: int
    sex: str  # female | male
    given: str | None = None  # fixed names for showcase households
    family: str | None = None
    preferred: str | None = None
    username: str | None = None
    account: bool | None = None  # None: decide by policy
    force_upcoming: bool = False


@dataclass
class _Grant:
    proxy: int  # member index of the proxy
    patient: int  # member index of the patient
    kind: str  # parent | guardian | caregiver | caregiver_proxy_only | spouse
    scopes: list[str] | None = None
    status: str | None = None
    ends_in_days: int | None = None  # showcase: fixed ends_at relative to now (negative = expired)


@dataclass
class _Person:
    member: _Member
    given: str
    family: str
    sex: str
    birth: date
    patient: Record | None = None
    account: Record | None = None
    conditions: dict[str, date] = field(default_factory=dict)  # condition key -> onset
    effective_proxies: list[tuple[Record, list[str]]] = field(
        default_factory=list
    )  # (account dict, scopes)
    billing: list[tuple[datetime, list[str]]] = field(
        default_factory=list
    )  # (service datetime, [cpt...])
    active_meds: list[str] = field(default_factory=list)
    visits: list[tuple[Record, Record]] = field(default_factory=list)  # completed, oldest first


class _HouseholdSpec(TypedDict):
    family: str
    members: list[_Member]
    grants: list[_Grant]


# The showcase households always come first, so that demo logins are stable
# across seeds and sizes.  Names are fixed; clinical data is random.
SHOWCASE: list[_HouseholdSpec] = [
    {
        "family": "Rivera",
        "members": [
            _Member(
                "adult", 41, "female", "Alexandra", "Rivera", "Alex", "alex.rivera", True, True
            ),
            _Member("adult", 43, "male", "Jordan", "Rivera", None, "jordan.rivera", True, True),
            _Member("child", 7, "female", "Mia", "Rivera", None, None, False, True),
            _Member("child", 14, "male", "Leonardo", "Rivera", "Leo", "leo.rivera", True, True),
        ],
        "grants": [
            _Grant(0, 2, "parent", status="active"),
            _Grant(1, 2, "parent", status="active"),
            _Grant(0, 3, "parent", status="active"),
            _Grant(1, 3, "parent", status="active"),
            _Grant(1, 0, "spouse", ["appointments", "billing"], "revoked"),
            _Grant(0, 1, "spouse", ["appointments"], "pending"),
        ],
    },
    {
        "family": "Chen",
        "members": [
            _Member("elder", 84, "female", "Margaret", "Chen", "Peggy", None, False, True),
            _Member("adult", 55, "female", "Susan", "Walsh", "Sue", "susan.walsh", True, True),
            _Member("proxy_only", 52, "male", "Daniel", "Chen", None, "daniel.chen", True),
        ],
        "grants": [
            _Grant(1, 0, "caregiver", list(C.FULL_SCOPES), "active"),
            _Grant(2, 0, "caregiver", ["appointments"], "active", -90),
            _Grant(2, 0, "caregiver", ["appointments", "medications"], "pending"),
        ],
    },
    {
        "family": "Okafor",
        "members": [
            _Member("child", 9, "female", "Ada", "Okafor", None, None, False, True),
            _Member("proxy_only", 63, "female", "Grace", "Mensah", None, "grace.mensah", True),
        ],
        "grants": [_Grant(1, 0, "guardian", status="active")],
    },
]

HOUSEHOLD_TYPES = [
    ("single", 28),
    ("couple", 14),
    ("family", 30),
    ("single_parent", 6),
    ("elder_with_caregiver", 9),
    ("elder_proxy_only", 4),
    ("elder_couple", 7),
    ("guardian_child", 2),
]


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------


class Generator:
    """Generate a dataset for ``patients`` patients.

    >>> Generator(patients=100, seed=7).write("out/")   # doctest: +SKIP
    """

    def __init__(self, patients: int, seed: int = DEFAULT_SEED, now: str = DEFAULT_NOW) -> None:
        if patients < 1:
            raise ValueError("patients must be >= 1")
        self.n_patients = int(patients)
        self.seed = int(seed)
        self.now_text = ts(parse_now(now))
        self.now = parse_now(now)
        self.today = self.now.date()
        self._clinic_offset = timedelta(hours=CLINIC_UTC_OFFSET_HOURS)

    # -- plumbing ----------------------------------------------------------

    def _rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(str(p) for p in (self.seed, *parts)))

    def write(self, out_dir: str) -> dict[str, Any]:
        """Write every ``<kind>.jsonl`` file and ``manifest.json`` into ``out_dir``.

        Returns the manifest as a dict.
        """
        sink = _Sink(out_dir)
        try:
            self._sink = sink
            self._occupied: dict[str, set[int]] = {}
            self._usernames: set[str] = set()
            self._departments()
            self._providers()
            self._households()
            self._slots()
        except BaseException:
            for fh in sink.files.values():
                fh.close()
            raise
        digests = sink.close()
        manifest = {
            "format_version": FORMAT_VERSION,
            # Historical name of this generator; part of the published format, keep it.
            "generator": "portal_datagen",
            "patients": self.n_patients,
            "seed": self.seed,
            "now": self.now_text,
            "clinic_utc_offset_hours": CLINIC_UTC_OFFSET_HOURS,
            "demo_password": DEMO_PASSWORD,
            "showcase_accounts": self._showcase_usernames,
            "files": {
                kind: {
                    "file": f"{kind}.jsonl",
                    "records": sink.counts[kind],
                    "sha256": digests[kind],
                }
                for kind in KINDS
            },
        }
        with open(
            os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8", newline="\n"
        ) as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        return manifest

    # -- reference entities -------------------------------------------------

    def _departments(self) -> None:
        facilities = {f[0]: f for f in C.FACILITIES}
        rng = self._rng("departments")
        self._dept: list[Record] = []
        for name, fac_key, specialty in C.DEPARTMENTS:
            _, fac_name, street, city, postal, area = facilities[fac_key]
            rec: Record = {
                "id": self._sink.new_id("departments"),
                "name": name,
                "facility": fac_name,
                "specialty": specialty,
                "address": {
                    "line1": street,
                    "line2": None,
                    "city": city,
                    "state": "MA",
                    "postal_code": postal,
                },
                "phone": f"{area}-555-01{rng.randint(0, 99):02d}",
                "timezone": "America/New_York",
            }
            self._dept.append(rec)
            self._sink.emit("departments", rec)

    def _providers(self) -> None:
        rng = self._rng("providers")
        n = max(len(self._dept), math.ceil(self.n_patients / 50))
        weights = []
        for d in self._dept:
            spec = d["specialty"]
            if spec in C.PRIMARY_CARE_SPECIALTIES:
                weights.append(6.0)
            elif spec == "Pediatrics":
                weights.append(4.0)
            elif spec in ("Radiology", "Urgent Care"):
                weights.append(0.7)
            else:
                weights.append(1.2)
        self.providers: list[Record] = []
        self.by_specialty: dict[str, list[Record]] = {}
        for i in range(n):
            dept = self._dept[i] if i < len(self._dept) else rng.choices(self._dept, weights)[0]
            sex = rng.choice(("female", "male"))
            given = rng.choice(C.GIVEN_NAMES_FEMALE if sex == "female" else C.GIVEN_NAMES_MALE)
            family = rng.choice(C.FAMILY_NAMES)
            cred = _weighted(rng, C.PROVIDER_CREDENTIALS)
            if dept["specialty"] == "Radiology":
                cred = rng.choice(("MD", "DO"))
            rec: Record = {
                "id": self._sink.new_id("providers"),
                "given_name": given,
                "family_name": family,
                "credentials": cred,
                "display_name": f"{given} {family}, {cred}",
                "specialty": dept["specialty"],
                "department_id": dept["id"],
                "accepts_new_patients": rng.random() < 0.7,
            }
            self.providers.append(rec)
            self.by_specialty.setdefault(dept["specialty"], []).append(rec)
            self._sink.emit("providers", rec)
        self._prov_by_id = {p["id"]: p for p in self.providers}
        self.pcps = [p for p in self.providers if p["specialty"] in C.PRIMARY_CARE_SPECIALTIES]
        self.peds = self.by_specialty.get("Pediatrics", []) or self.pcps

    def _provider_for(self, rng: random.Random, specialty: str, fallback: Record) -> Record:
        pool = self.by_specialty.get(specialty)
        return rng.choice(pool) if pool else fallback

    # -- households ----------------------------------------------------------

    def _households(self) -> None:
        self._created = 0
        self._showcase_usernames: list[dict[str, str | None]] = []
        h = 0
        while self._created < self.n_patients:
            rng = self._rng("household", h)
            if h < len(SHOWCASE):
                spec = SHOWCASE[h]
                family, members, grants = spec["family"], spec["members"], spec["grants"]
            else:
                family, members, grants = self._plan_household(rng)
            self._build_household(rng, family, members, grants)
            h += 1

    def _plan_household(self, rng: random.Random) -> tuple[str, list[_Member], list[_Grant]]:
        family = rng.choice(C.FAMILY_NAMES)
        kind = _weighted(rng, HOUSEHOLD_TYPES)
        other = {"female": "male", "male": "female"}
        sex = rng.choice(("female", "male"))
        members: list[_Member] = []
        grants: list[_Grant] = []
        if kind == "single":
            members.append(_Member("adult", rng.randint(18, 64), sex))
        elif kind == "couple":
            a = rng.randint(22, 80)
            members.append(_Member("adult", a, sex))
            members.append(
                _Member(
                    "adult",
                    max(19, min(92, a + rng.randint(-6, 6))),
                    other[sex] if rng.random() < 0.9 else sex,
                )
            )
            if rng.random() < 0.35:
                grants.append(
                    _Grant(1, 0, "spouse") if rng.random() < 0.5 else _Grant(0, 1, "spouse")
                )
        elif kind in ("family", "single_parent"):
            a = rng.randint(25, 52)
            members.append(_Member("adult", a, sex))
            if kind == "family":
                members.append(
                    _Member(
                        "adult",
                        max(22, min(60, a + rng.randint(-5, 5))),
                        other[sex] if rng.random() < 0.92 else sex,
                    )
                )
            parents = list(range(len(members)))
            for _ in range(_weighted(rng, [(1, 40), (2, 40), (3, 20)])):
                members.append(
                    _Member(
                        "child", rng.randint(0, min(17, a - 18)), rng.choice(("female", "male"))
                    )
                )
                for p in parents:
                    if rng.random() < 0.85:
                        grants.append(_Grant(p, len(members) - 1, "parent"))
        elif kind == "elder_with_caregiver":
            e = rng.randint(68, 96)
            members.append(_Member("elder", e, sex))
            members.append(
                _Member(
                    "adult",
                    max(30, e - rng.randint(24, 38)),
                    rng.choice(("female", "male")),
                    account=True,
                )
            )
            grants.append(_Grant(1, 0, "caregiver"))
        elif kind == "elder_proxy_only":
            e = rng.randint(70, 96)
            members.append(_Member("elder", e, sex))
            members.append(
                _Member(
                    "proxy_only", max(30, e - rng.randint(24, 38)), rng.choice(("female", "male"))
                )
            )
            grants.append(_Grant(1, 0, "caregiver_proxy_only"))
        elif kind == "elder_couple":
            a = rng.randint(65, 90)
            members.append(_Member("elder", a, sex))
            members.append(_Member("elder", max(65, min(96, a + rng.randint(-4, 4))), other[sex]))
            for p, q in ((0, 1), (1, 0)):
                if rng.random() < 0.4:
                    grants.append(_Grant(p, q, "spouse"))
        else:  # guardian_child
            members.append(_Member("child", rng.randint(0, 17), sex))
            members.append(
                _Member("proxy_only", rng.randint(45, 75), rng.choice(("female", "male")))
            )
            grants.append(_Grant(1, 0, "guardian"))
        return family, members, grants

    def _build_household(
        self, rng: random.Random, family: str, members: list[_Member], grants: list[_Grant]
    ) -> None:
        town = rng.choice(C.TOWNS)
        city, postal, area = town
        address: Record = {
            "line1": f"{rng.randint(3, 980)} {rng.choice(C.STREETS)}",
            "line2": f"Apt {rng.randint(1, 4)}{rng.choice('ABCD')}"
            if rng.random() < 0.25
            else None,
            "city": city,
            "state": "MA",
            "postal_code": postal,
        }
        home_phone = f"{area}-555-01{rng.randint(0, 99):02d}"
        proxies = {g.proxy for g in grants}
        people: list[_Person | None] = []
        household_pcp = rng.choice(self.pcps)

        for idx, m in enumerate(members):
            if m.role != "proxy_only" and self._created >= self.n_patients:
                people.append(None)
                continue
            if m.role == "proxy_only" and not any(
                g.proxy == idx and g.patient < idx and people[g.patient] is not None for g in grants
            ):
                people.append(None)  # the patients this proxy would look after were cut off
                continue
            people.append(
                self._make_person(
                    rng, m, idx in proxies, family, address, home_phone, area, household_pcp
                )
            )

        # Proxy grants (need every member's account first).
        for g in grants:
            proxy, patient = people[g.proxy], people[g.patient]
            if proxy is None or patient is None or proxy.account is None or patient.patient is None:
                continue
            for rec in self._grant_records(rng, g, proxy, patient):
                self._sink.emit("proxy_grants", rec)
                if self._effective(rec):
                    patient.effective_proxies.append((proxy.account, rec["scopes"]))

        # Clinical data, per patient.
        for person in people:
            if person is not None and person.patient is not None:
                self._clinical(rng, person)
                self._notes(person)

        # Billing: minors' charges go on a parent's (guarantor's) statements.
        guarantor_of: dict[int, _Person] = {}
        adults = [
            p
            for p in people
            if p is not None and p.patient is not None and p.member.role in ("adult", "elder")
        ]
        for person in people:
            if person is None or person.patient is None:
                continue
            if person.member.role == "child" and adults:
                guarantor_of[id(person)] = adults[0]
            else:
                guarantor_of[id(person)] = person
        by_guarantor: dict[int, list[tuple[datetime, str, list[str]]]] = {}
        order: list[_Person] = []
        for person in people:
            if person is None or person.patient is None or not person.billing:
                continue
            guarantor = guarantor_of[id(person)]
            if id(guarantor) not in by_guarantor:
                by_guarantor[id(guarantor)] = []
                order.append(guarantor)
            for when, codes in person.billing:
                by_guarantor[id(guarantor)].append((when, person.patient["id"], codes))
        for guarantor in order:
            self._statements(rng, guarantor, by_guarantor[id(guarantor)])

    def _make_person(
        self,
        rng: random.Random,
        m: _Member,
        is_proxy: bool,
        family: str,
        address: Record,
        home_phone: str,
        area: str,
        household_pcp: Record,
    ) -> _Person:
        sex = m.sex
        given = m.given or rng.choice(
            C.GIVEN_NAMES_FEMALE if sex == "female" else C.GIVEN_NAMES_MALE
        )
        fam = m.family or (
            family if m.role != "proxy_only" or rng.random() < 0.6 else rng.choice(C.FAMILY_NAMES)
        )
        preferred = m.preferred
        if m.given is None and given in C.NICKNAMES and rng.random() < 0.35:
            preferred = C.NICKNAMES[given]
        birth = self.today - timedelta(days=int(m.age * 365.25) + rng.randint(0, 364))
        person = _Person(m, given, fam, sex, birth)
        age = age_on(birth, self.today)
        mobile = f"{area}-555-01{rng.randint(0, 99):02d}"

        if m.role != "proxy_only":
            self._created += 1
            pid = self._sink.new_id("patients")
            seq = self._sink.seq["patients"]
            if m.role == "child":
                pcp = rng.choice(self.peds) if rng.random() < 0.75 else household_pcp
            else:
                pcp = household_pcp if rng.random() < 0.6 else rng.choice(self.pcps)
            email = None
            if age >= 13:
                email = f"{ascii_slug(given)}.{ascii_slug(fam)}.{seq}@example.{rng.choice(('com', 'org', 'net'))}"
                if m.username:
                    email = f"{m.username}@example.org"
            person.patient = {
                "id": pid,
                "mrn": f"E{(1000003 + seq * 7919) % 9000000 + 1000000:07d}",
                "given_name": given,
                "family_name": fam,
                "preferred_name": preferred,
                "birth_date": birth.isoformat(),
                "sex": sex,
                "email": email,
                "phone": mobile if age >= 13 else home_phone,
                "address": dict(address),
                "pcp_provider_id": pcp["id"],
            }
            self._sink.emit("patients", person.patient)

        want_account = m.account
        if want_account is None:
            if is_proxy or m.role == "proxy_only":
                want_account = True
            elif age >= 18:
                want_account = rng.random() < 0.85
            elif age >= 13:
                want_account = rng.random() < 0.35
            else:
                want_account = False
        if want_account:
            person.account = self._make_account(rng, person, age)
            if m.username:
                self._showcase_usernames.append(
                    {
                        "username": m.username,
                        "account_id": person.account["id"],
                        "patient_id": person.patient["id"] if person.patient else None,
                        "display_name": person.account["display_name"],
                    }
                )
        return person

    def _make_account(self, rng: random.Random, person: _Person, age: int) -> Record:
        aid = self._sink.new_id("accounts")
        seq = self._sink.seq["accounts"]
        username = (
            person.member.username
            or f"{ascii_slug(person.given)[:1]}{ascii_slug(person.family)}{seq}"
        )
        while username in self._usernames:  # only possible for hand-picked showcase names
            username += "x"
        self._usernames.add(username)
        if person.patient and person.patient["email"]:
            email = person.patient["email"]
        else:
            email = f"{username}@example.org"
        # Accounts can exist from age 13 and at most 12 years back.
        earliest = max(
            add_years(person.birth, 13) if person.birth else self.today,
            self.today - timedelta(days=12 * 365),
        )
        latest = self.today - timedelta(days=20)
        if earliest > latest:
            earliest = latest
        created_day = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
        created = midnight(created_day) + timedelta(minutes=rng.randint(7 * 60, 22 * 60))
        last_login: datetime | None = None
        if rng.random() < 0.9:
            last_login = self.now - timedelta(minutes=rng.randint(5, 60 * 24 * 120))
            if last_login < created:
                last_login = created + timedelta(hours=1)
        rec = {
            "id": aid,
            "username": username,
            "email": email,
            "display_name": f"{person.given} {person.family}",
            "patient_id": person.patient["id"] if person.patient else None,
            "password": DEMO_PASSWORD,
            "created_at": ts(created),
            "last_login_at": ts(last_login) if last_login else None,
        }
        self._sink.emit("accounts", rec)
        return rec

    # -- proxy grants --------------------------------------------------------

    def _effective(self, grant: Record) -> bool:
        if grant["status"] != "active":
            return False
        if grant["starts_at"] > self.now_text:
            return False
        return grant["ends_at"] is None or grant["ends_at"] > self.now_text

    def _grant(
        self,
        patient: _Person,
        proxy: _Person,
        relationship: str,
        scopes: Sequence[str],
        status: str,
        starts: datetime,
        ends: datetime | None,
    ) -> Record:
        if patient.patient is None:
            raise ValueError("patient.patient is None")
        if proxy.account is None:
            raise ValueError("proxy.account is None")
        order = {s: i for i, s in enumerate(C.GRANTABLE_SCOPES)}
        return {
            "id": self._sink.new_id("proxy_grants"),
            "patient_id": patient.patient["id"],
            "proxy_account_id": proxy.account["id"],
            "relationship": relationship,
            "scopes": sorted(set(scopes), key=order.__getitem__),
            "status": status,
            "starts_at": ts(starts),
            "ends_at": ts(ends) if ends else None,
        }

    def _grant_records(
        self, rng: random.Random, g: _Grant, proxy: _Person, patient: _Person
    ) -> list[Record]:
        if proxy.account is None:
            raise ValueError("proxy.account is None")
        acct_created = parse_now(proxy.account["created_at"])
        out = []
        if g.kind in ("parent", "guardian"):
            rel = g.kind
            b12 = local_midnight(add_years(patient.birth, 12))
            b18 = local_midnight(add_years(patient.birth, 18))
            start = max(
                midnight(patient.birth) + timedelta(days=rng.randint(0, 60)),
                acct_created + timedelta(days=1),
            )
            start = min(start, self.now - timedelta(days=1))
            if start < b12:
                if g.status:
                    status = g.status
                elif self.now < b12:
                    status = _weighted(rng, [("active", 93), ("pending", 5), ("revoked", 2)])
                else:
                    status = _weighted(rng, [("active", 98), ("revoked", 2)])  # active but expired
                if status == "pending":
                    start = self.now - timedelta(days=rng.randint(1, 10))
                out.append(self._grant(patient, proxy, rel, C.FULL_SCOPES, status, start, b12))
            if self.now >= b12 - timedelta(days=1) and self.now < b18:
                status = g.status or ("pending" if rng.random() < 0.05 else "active")
                out.append(
                    self._grant(
                        patient, proxy, rel, C.ADOLESCENT_SCOPES, status, max(b12, start), b18
                    )
                )
        elif g.kind in ("caregiver", "caregiver_proxy_only"):
            start = acct_created + timedelta(days=rng.randint(1, 400))
            start = min(start, self.now - timedelta(days=2))
            scopes = g.scopes or (
                C.FULL_SCOPES
                if rng.random() < 0.7
                else ["appointments", "medications", "health_summary", "messages"]
            )
            ends: datetime | None = None
            if g.ends_in_days is not None:
                ends = self.now + timedelta(days=g.ends_in_days)
                start = ends - timedelta(days=60)
                status = g.status or "active"
            elif g.kind == "caregiver_proxy_only" and g.status is None and rng.random() < 0.15:
                # Temporary access (e.g. after surgery) that has run out.
                ends = self.now - timedelta(days=rng.randint(10, 200))
                start = ends - timedelta(days=rng.randint(30, 120))
                status = "active"
            else:
                status = g.status or _weighted(
                    rng, [("active", 85), ("revoked", 8), ("pending", 7)]
                )
            if status == "pending" and g.ends_in_days is None:
                start = self.now - timedelta(days=rng.randint(1, 14))
            out.append(self._grant(patient, proxy, "caregiver", scopes, status, start, ends))
        elif g.kind == "spouse":
            other_created = (
                parse_now(patient.account["created_at"]) if patient.account else acct_created
            )
            start = max(acct_created, other_created) + timedelta(days=rng.randint(1, 300))
            start = min(start, self.now - timedelta(days=2))
            scopes = g.scopes or rng.sample(list(C.SCOPES), rng.randint(2, 6))
            status = g.status or _weighted(rng, [("active", 70), ("revoked", 20), ("pending", 10)])
            if status == "pending":
                start = self.now - timedelta(days=rng.randint(1, 14))
            out.append(self._grant(patient, proxy, "spouse", scopes, status, start, None))
        return out

    # -- scheduling ----------------------------------------------------------

    def _cell_start(self, day: date, cell: int) -> datetime:
        local = midnight(day) + timedelta(minutes=CLINIC_FIRST_CELL_LOCAL + cell * CELL_MINUTES)
        return local - self._clinic_offset

    def _book(
        self, rng: random.Random, provider: Record, day: date, duration: int, future: bool
    ) -> datetime | None:
        """Reserve a free run of grid cells on ``day`` for ``provider``."""
        wd = day.weekday()
        if wd >= 5:
            day = day + timedelta(days=7 - wd) if future else day - timedelta(days=wd - 4)
        cells = max(1, math.ceil(duration / CELL_MINUTES))
        taken = self._occupied.setdefault(provider["id"], set())
        base = day.toordinal() * 64
        for _ in range(12):
            c = rng.randint(0, CELLS_PER_DAY - cells)
            keys = [base + c + k for k in range(cells)]
            if any(k in taken for k in keys):
                continue
            start = self._cell_start(day, c)
            if future and start < self.now + timedelta(hours=1):
                continue
            if not future and start + timedelta(minutes=duration) > self.now:
                continue
            taken.update(keys)
            return start
        return None

    # -- clinical ------------------------------------------------------------

    def _conditions(self, rng: random.Random, person: _Person) -> dict[str, date]:
        age = age_on(person.birth, self.today)
        female = person.sex == "female"
        conds: dict[str, date] = {}

        def maybe(key: str, p: float, min_age: float) -> None:
            if age >= min_age and rng.random() < p:
                onset_age = rng.uniform(min_age, max(min_age, age - 0.1))
                conds[key] = person.birth + timedelta(days=int(onset_age * 365.25))

        if age >= 18:
            maybe("htn", min(0.65, max(0.0, (age - 25) * 0.012)), 25)
            maybe("hld", min(0.55, max(0.0, (age - 25) * 0.011)), 25)
            maybe("t2dm", min(0.25, max(0.0, (age - 30) * 0.005)), 30)
            maybe("hypothyroid", 0.07 if female else 0.02, 20)
            maybe("asthma", 0.08, 5)
            maybe("gad", 0.08, 15)
            maybe("depression", 0.08, 15)
            maybe("gerd", 0.10, 20)
            maybe("obesity", 0.20, 18)
            maybe("oa_knee", 0.25, 55)
            maybe("afib", 0.09, 65)
            maybe("ckd3", 0.10, 60)
            maybe("vitd", 0.10, 18)
            maybe("migraine", 0.08 if female else 0.03, 15)
            maybe("rhinitis", 0.10, 5)
            maybe("lbp", 0.08, 20)
            maybe("osa", 0.06, 40)
        else:
            maybe("asthma", 0.08, 2)
            maybe("rhinitis", 0.10, 3)
            maybe("eczema", 0.08, 0)
            maybe("adhd", 0.07, 6)
        return conds

    def _clinical(self, rng: random.Random, person: _Person) -> None:
        sink = self._sink
        pat = person.patient
        if pat is None:
            raise ValueError("pat is None")
        pid = pat["id"]
        age = age_on(person.birth, self.today)
        pcp = self._prov_by_id[pat["pcp_provider_id"]]
        person.conditions = conds = self._conditions(rng, person)
        pharmacy = rng.choice(C.PHARMACIES)

        # Problems
        for key in sorted(conds, key=lambda k: (conds[k], k)):
            name, icd = C.PROBLEMS[key]
            sink.emit(
                "problems",
                {
                    "id": sink.new_id("problems"),
                    "patient_id": pid,
                    "name": name,
                    "icd10": icd,
                    "onset_date": conds[key].isoformat(),
                    "status": "active",
                },
            )
        if rng.random() < 0.25:
            name, icd = rng.choice(C.ACUTE_PROBLEMS)
            onset = self.today - timedelta(days=rng.randint(30, min(900, max(31, age * 365))))
            sink.emit(
                "problems",
                {
                    "id": sink.new_id("problems"),
                    "patient_id": pid,
                    "name": name,
                    "icd10": icd,
                    "onset_date": max(onset, person.birth).isoformat(),
                    "status": "resolved",
                },
            )

        # Allergies
        n_allergies = _weighted(rng, [(0, 60), (1, 25), (2, 10), (3, 5)])
        for substance, category, reactions in rng.sample(C.ALLERGENS, n_allergies):
            reaction = rng.choice(reactions)
            severity = (
                "severe"
                if reaction in ("Anaphylaxis", "Angioedema", "Throat tightness")
                else rng.choice(("mild", "moderate"))
            )
            recorded = person.birth + timedelta(
                days=rng.randint(0, max(0, (self.today - person.birth).days))
            )
            sink.emit(
                "allergies",
                {
                    "id": sink.new_id("allergies"),
                    "patient_id": pid,
                    "substance": substance,
                    "category": category,
                    "reaction": reaction,
                    "severity": severity,
                    "recorded_on": recorded.isoformat(),
                },
            )

        # Medications
        specialist_for = {
            "afib": "Cardiology",
            "t2dm": "Endocrinology",
            "depression": "Behavioral Health",
            "gad": "Behavioral Health",
            "asthma": "Pulmonology" if age >= 18 else "Allergy and Immunology",
            "migraine": "Neurology",
            "eczema": "Dermatology",
        }
        for key in sorted(conds, key=lambda k: (conds[k], k)):
            options = C.MEDICATIONS_FOR.get(key) or []
            if not options:
                continue
            take = options if key in ("afib", "asthma") else [rng.choice(options)]
            for name, dose, route, freq, controlled in take:
                start = conds[key] + timedelta(days=rng.randint(0, 90))
                if start > self.today:
                    start = self.today - timedelta(days=1)
                prescriber = pcp
                if key in specialist_for and rng.random() < 0.4:
                    prescriber = self._provider_for(rng, specialist_for[key], pcp)
                rec = {
                    "id": sink.new_id("medications"),
                    "patient_id": pid,
                    "name": name,
                    "dose": dose,
                    "route": route,
                    "frequency": freq,
                    "status": "active",
                    "start_date": start.isoformat(),
                    "end_date": None,
                    "prescriber_id": prescriber["id"],
                    "refills_remaining": 0 if controlled else rng.randint(0, 5),
                    "pharmacy": pharmacy,
                }
                sink.emit("medications", rec)
                person.active_meds.append(name)
        if rng.random() < 0.3:
            course = rng.choice(
                [
                    (
                        "Amoxicillin 500 mg capsule",
                        "500 mg",
                        "oral",
                        "Three times daily for 10 days",
                    ),
                    (
                        "Azithromycin 250 mg tablet",
                        "500 mg day 1, then 250 mg",
                        "oral",
                        "Once daily for 5 days",
                    ),
                    ("Prednisone 20 mg tablet", "40 mg", "oral", "Once daily for 5 days"),
                    (
                        "Ondansetron 4 mg tablet",
                        "4 mg",
                        "oral",
                        "Every 8 hours as needed for nausea",
                    ),
                ]
            )
            start = self.today - timedelta(days=rng.randint(20, 700))
            if start < person.birth:
                start = person.birth + timedelta(days=30)
            sink.emit(
                "medications",
                {
                    "id": sink.new_id("medications"),
                    "patient_id": pid,
                    "name": course[0],
                    "dose": course[1],
                    "route": course[2],
                    "frequency": course[3],
                    "status": "discontinued",
                    "start_date": start.isoformat(),
                    "end_date": (start + timedelta(days=10)).isoformat(),
                    "prescriber_id": pcp["id"],
                    "refills_remaining": 0,
                    "pharmacy": pharmacy,
                },
            )

        self._immunizations(rng, person, age)
        encounters = self._appointments(rng, person, age, pcp)
        encounters += self._standing_labs(rng, person, age, pcp)
        encounters.sort(key=lambda e: e[0])
        self._results(rng, person, age, pcp, encounters)
        self._threads(rng, person, pcp)

    def _immunizations(self, rng: random.Random, person: _Person, age: int) -> None:
        sink = self._sink
        if person.patient is None:
            raise ValueError("person.patient is None")
        pid = person.patient["id"]
        records: list[tuple[date, str, str, int]] = []
        age_months = (self.today - person.birth).days / 30.44
        # Childhood series are on file for patients who grew up in the system.
        for vaccine, cvx, months in C.CHILD_VACCINES if age < 19 else ():
            for dose, m in enumerate(months, start=1):
                if m > age_months or rng.random() < 0.03:
                    continue
                when = person.birth + timedelta(days=int(m * 30.44) + rng.randint(0, 20))
                if when >= self.today:
                    continue
                records.append((when, vaccine, cvx, dose))
        for season in range(3):
            year = self.today.year - season - (0 if self.today.month >= 10 else 1)
            if age_months >= 6 and rng.random() < (0.75 if age >= 65 else 0.5):
                when = date(year, 9, 15) + timedelta(days=rng.randint(0, 75))
                if person.birth + timedelta(days=183) <= when < self.today:
                    records.append((when, C.INFLUENZA[0], C.INFLUENZA[1], 1))
        if age >= 18:
            if rng.random() < 0.5:
                when = self.today - timedelta(days=rng.randint(30, 700))
                records.append((when, C.COVID[0], C.COVID[1], 1))
            if rng.random() < 0.6:
                when = self.today - timedelta(days=rng.randint(60, 3500))
                if when > add_years(person.birth, 18):
                    records.append((when, C.ADULT_TDAP[0], C.ADULT_TDAP[1], 1))
        if age >= 50 and rng.random() < 0.4:
            first = self.today - timedelta(days=rng.randint(200, 1500))
            records.append((first, C.ZOSTER[0], C.ZOSTER[1], 1))
            records.append(
                (first + timedelta(days=rng.randint(60, 180)), C.ZOSTER[0], C.ZOSTER[1], 2)
            )
        if age >= 65 and rng.random() < 0.5:
            records.append(
                (
                    add_years(person.birth, 65) + timedelta(days=rng.randint(0, 300)),
                    C.PPSV23[0],
                    C.PPSV23[1],
                    1,
                )
            )
        records = [r for r in records if r[0] < self.today]
        records.sort(key=lambda r: (r[0], r[2], r[3]))
        for when, vaccine, cvx, dose in records:
            if cvx == C.INFLUENZA[1]:
                person.billing.append((midnight(when) + timedelta(hours=15), ["90686", "90471"]))
            lot = f"{rng.choice(C.VACCINE_LOT_PREFIXES)}{rng.randint(1000, 99999)}"
            sink.emit(
                "immunizations",
                {
                    "id": sink.new_id("immunizations"),
                    "patient_id": pid,
                    "vaccine": vaccine,
                    "cvx": cvx,
                    "administered_on": when.isoformat(),
                    "dose_number": dose,
                    "lot": lot,
                },
            )

    def _appointments(
        self, rng: random.Random, person: _Person, age: int, pcp: Record
    ) -> list[Encounter]:
        """Create appointments; return the completed encounters with their orders."""
        if person.patient is None:
            raise ValueError("person.patient is None")
        conds = person.conditions
        plan: list[
            tuple[date, Record, str, list[str], bool]
        ] = []  # (day, provider, visit_type, orders, future)

        def visit(provider: Record, vtype: str) -> int:
            for name, dur in C.VISIT_TYPES.get(provider["specialty"], C.VISIT_TYPES["_specialist"]):
                if name == vtype:
                    return dur
            return 30

        def past_day(lo: int, hi: int) -> date:
            return self.today - timedelta(days=rng.randint(lo, hi))

        chronic = bool({"htn", "hld", "t2dm", "hypothyroid", "afib", "ckd3"} & conds.keys())
        if age >= 18:
            for yb in range(3):
                if rng.random() < (0.85 if chronic else 0.65):
                    orders: list[str] = []
                    if age >= 20 and rng.random() < 0.85:
                        orders.append("lipid")
                    r = rng.random()
                    if r < 0.55 or "ckd3" in conds:
                        orders.append("cmp")
                    elif r < 0.92:
                        orders.append("bmp")
                    if rng.random() < 0.75:
                        orders.append("cbc")
                    if (
                        "t2dm" in conds
                        or ("obesity" in conds and rng.random() < 0.5)
                        or rng.random() < 0.1
                    ):
                        orders.append("a1c")
                    if "hypothyroid" in conds or rng.random() < 0.12:
                        orders.append("tsh")
                    if "vitd" in conds or rng.random() < 0.08:
                        orders.append("vitd")
                    plan.append(
                        (
                            past_day(yb * 365 + 10, yb * 365 + 350),
                            pcp,
                            "Annual Physical",
                            orders,
                            False,
                        )
                    )
        else:
            for yb in range(3):
                if age - yb >= 0 and rng.random() < 0.8:
                    orders = ["cbc"] if rng.random() < 0.08 else []
                    day = past_day(yb * 365 + 10, yb * 365 + 350)
                    if day > person.birth:
                        plan.append((day, pcp, "Well Child", orders, False))
        if "t2dm" in conds:
            for k in range(rng.randint(3, 6)):
                prov = pcp if rng.random() < 0.7 else self._provider_for(rng, "Endocrinology", pcp)
                orders = ["a1c"] + (["bmp"] if rng.random() < 0.4 else [])
                plan.append(
                    (past_day(k * 140 + 20, k * 140 + 130), prov, "Follow-Up", orders, False)
                )
        elif chronic and rng.random() < 0.6:
            plan.append((past_day(30, 400), pcp, "Follow-Up", [], False))
        if "afib" in conds:
            card = self._provider_for(rng, "Cardiology", pcp)
            for k in range(rng.randint(1, 2)):
                plan.append(
                    (
                        past_day(k * 300 + 30, k * 300 + 280),
                        card,
                        "Follow-Up",
                        ["bmp"] if rng.random() < 0.3 else [],
                        False,
                    )
                )
        if ("depression" in conds or "gad" in conds) and rng.random() < 0.5:
            bh = self._provider_for(rng, "Behavioral Health", pcp)
            for k in range(rng.randint(1, 3)):
                plan.append((past_day(k * 60 + 14, k * 60 + 70), bh, "Therapy Session", [], False))
        for _ in range(_weighted(rng, [(0, 45), (1, 35), (2, 15), (3, 5)])):
            if rng.random() < 0.2:
                prov, vtype = self._provider_for(rng, "Urgent Care", pcp), "Urgent Care Visit"
            else:
                prov = pcp
                vtype = (
                    "Sick Visit"
                    if pcp["specialty"] == "Pediatrics"
                    else rng.choice(("Office Visit", "Office Visit", "Telehealth Visit"))
                )
            orders = ["cxr"] if age >= 18 and rng.random() < 0.12 else []
            plan.append((past_day(1, 720), prov, vtype, orders, False))
        if person.sex == "female" and 40 <= age <= 74:
            rad = self._provider_for(rng, "Radiology", pcp)
            for yb in range(3):
                if rng.random() < 0.7:
                    plan.append(
                        (past_day(yb * 365 + 15, yb * 365 + 340), rad, "Imaging", ["mammo"], False)
                    )

        # Upcoming appointments
        n_future = _weighted(rng, [(0, 35), (1, 40), (2, 18), (3, 7)])
        if person.member.force_upcoming:
            n_future = max(n_future, 2)
        if "t2dm" in conds:
            n_future += 1
        for k in range(n_future):
            r = rng.random()
            if r < 0.55:
                prov = pcp
                vtype = rng.choice(
                    [
                        name
                        for name, _ in C.VISIT_TYPES.get(
                            pcp["specialty"], C.VISIT_TYPES["_specialist"]
                        )
                    ]
                )
            elif r < 0.85:
                spec = rng.choice(
                    [
                        "Cardiology",
                        "Endocrinology",
                        "Dermatology",
                        "Orthopedics",
                        "Gastroenterology",
                        "Neurology",
                        "Pulmonology",
                        "Obstetrics and Gynecology",
                        "Behavioral Health",
                    ]
                )
                if spec == "Obstetrics and Gynecology" and (person.sex != "female" or age < 15):
                    spec = "Dermatology"
                prov = self._provider_for(rng, spec, pcp)
                vtype = rng.choice(
                    [
                        name
                        for name, _ in C.VISIT_TYPES.get(
                            prov["specialty"], C.VISIT_TYPES["_specialist"]
                        )
                    ]
                )
            else:
                prov, vtype = pcp, "Follow-Up"
            horizon = 14 if (person.member.force_upcoming and k == 0) else FUTURE_DAYS
            day = self.today + timedelta(days=rng.randint(0, horizon))
            plan.append((day, prov, vtype, [], True))

        plan.sort(key=lambda p: (p[0], p[2]))
        encounters: list[Encounter] = []
        for day, prov, vtype, orders, future in plan:
            if day <= person.birth:
                continue
            duration = visit(prov, vtype)
            start = self._book(rng, prov, day, duration, future)
            if start is None:
                continue
            reason = rng.choice(C.VISIT_REASONS.get(vtype, ["Visit"]))
            telehealth = vtype == "Telehealth Visit"
            if future:
                days_out = (start - self.now).total_seconds() / 86400
                status = _weighted(
                    rng,
                    [
                        ("scheduled", 55),
                        ("confirmed", 35 if days_out < 10 else 15),
                        ("cancelled", 8),
                    ],
                )
                questionnaire = status != "cancelled" and rng.random() < (
                    0.55 if days_out < 7 else 0.1
                )
                if (
                    status != "cancelled"
                    and start.date() == self.today
                    and questionnaire
                    and rng.random() < 0.6
                ):
                    status = "checked_in"
            else:
                status = _weighted(rng, [("completed", 88), ("cancelled", 8), ("no_show", 4)])
                questionnaire = status == "completed" and rng.random() < 0.7
            rec = {
                "id": self._sink.new_id("appointments"),
                "patient_id": person.patient["id"],
                "provider_id": prov["id"],
                "department_id": prov["department_id"],
                "visit_type": vtype,
                "reason": reason,
                "starts_at": ts(start),
                "duration_minutes": duration,
                "status": status,
                "telehealth": telehealth,
                "questionnaire_complete": questionnaire,
            }
            self._sink.emit("appointments", rec)
            if status == "completed":
                person.visits.append((rec, prov))
                encounters.append((start, duration, prov, vtype, reason, orders))
                codes = self._visit_codes(vtype, age, rng)
                if any(o in C.LAB_TESTS for o in orders):
                    codes.append("36415")
                for o in orders:
                    codes.append(C.LAB_TESTS[o][3] if o in C.LAB_TESTS else C.IMAGING_TESTS[o][2])
                if codes:
                    person.billing.append((start, codes))
        return encounters

    def _notes(self, person: _Person) -> None:
        """Clinical notes, from a random stream of their own (no other kind changes)."""
        if person.patient is None:
            raise ValueError("person.patient is None")
        pid = person.patient["id"]
        visits = sorted(person.visits, key=lambda v: (v[0]["starts_at"], v[0]["id"]))
        for rec in clinical_notes.notes_for(
            pid,
            visits,
            self._rng("notes", pid),
            self.now,
            ts,
            lambda: self._sink.new_id("clinical_notes"),
        ):
            self._sink.emit("clinical_notes", rec)

    def _standing_labs(
        self, rng: random.Random, person: _Person, age: int, pcp: Record
    ) -> list[Encounter]:
        """Walk-in lab draws on standing orders for chronic conditions (no appointment)."""
        conds = person.conditions
        if age < 18:
            return []
        if {"htn", "hld", "t2dm", "hypothyroid", "ckd3", "afib"} & conds.keys():
            n_draws = rng.randint(2, 6)
        else:
            n_draws = _weighted(rng, [(0, 55), (1, 30), (2, 15)])
        draws: list[Encounter] = []
        for k in range(n_draws):
            tests: list[str] = []
            if "t2dm" in conds:
                tests.append("a1c")
            if "hld" in conds and rng.random() < 0.6:
                tests.append("lipid")
            if {"htn", "ckd3", "afib"} & conds.keys() and rng.random() < 0.7:
                tests.append("bmp")
            if "hypothyroid" in conds and rng.random() < 0.5:
                tests.append("tsh")
            if not tests:
                tests.append(rng.choice(("bmp", "lipid", "cbc")))
            day = self.today - timedelta(days=rng.randint(k * 170 + 1, k * 170 + 160))
            if day.weekday() >= 5:
                day -= timedelta(days=day.weekday() - 4)
            start = (
                self._cell_start(day, 0)
                - timedelta(minutes=60)
                + timedelta(minutes=rng.randint(0, 9 * 60))
            )
            if start >= self.now:
                continue
            draws.append((start, 0, pcp, "Lab Draw", "Standing order", tests))
            person.billing.append((start, ["36415"] + [C.LAB_TESTS[t][3] for t in tests]))
        return draws

    def _visit_codes(self, vtype: str, age: int, rng: random.Random) -> list[str]:
        if vtype == "Annual Physical":
            codes = ["G0439"] if age >= 65 else ["99395" if age < 40 else "99396"]
            if age >= 40 and rng.random() < 0.3:
                codes.append("93000")
            return codes
        if vtype == "Well Child":
            return ["99392" if age < 5 else "99393" if age < 12 else "99394"]
        if vtype == "Imaging":
            return []
        options = C.VISIT_CPT.get(vtype, ["99213"])
        codes = [rng.choice(options)]
        if vtype == "Urgent Care Visit" and rng.random() < 0.3:
            codes.append("99051")
        if vtype in ("Office Visit", "Sick Visit", "Urgent Care Visit") and rng.random() < 0.45:
            codes.append(rng.choice(C.POC_TESTS))
        return codes

    # -- results -------------------------------------------------------------

    def _baselines(self, rng: random.Random, person: _Person, age: int) -> dict[str, float]:
        conds = person.conditions
        female = person.sex == "female"
        b: dict[str, float] = {}
        for key, a in C.ANALYTES.items():
            b[key] = a["mean"] + 0.8 * a["sd"] * rng.gauss(0, 1)
        if female:
            b["hgb"] -= 1.0
            b["hct"] -= 3.0
            b["rbc"] -= 0.35
            b["creat"] -= 0.15
            b["hdl"] += 8
        if "hld" in conds:
            b["chol"] += 45
            b["trig"] += 45
        if "obesity" in conds:
            b["trig"] += 30
            b["hdl"] -= 6
            b["alt"] += 10
        if "t2dm" in conds:
            b["a1c"] = 7.4 + 0.8 * rng.gauss(0, 1)
            b["glu"] = 150 + 25 * rng.gauss(0, 1)
        if "ckd3" in conds:
            b["creat"] = 1.5 + 0.2 * rng.gauss(0, 1) - (0.2 if female else 0.0)
        if "hypothyroid" in conds:
            b["tsh"] = 3.0 + 1.6 * abs(rng.gauss(0, 1))
        if "vitd" in conds:
            b["vitd"] = 17 + 5 * rng.gauss(0, 1)
        b["_age"] = age
        return b

    def _measure(
        self, rng: random.Random, person: _Person, base: dict[str, float], test: str, when: datetime
    ) -> list[Record]:
        female = person.sex == "female"
        years_ago = (self.now - when).days / 365.25
        vals: dict[str, float] = {}
        for key in C.LAB_TESTS[test][2]:
            a = C.ANALYTES[key]
            if a["sd"] == 0:
                continue
            v = base[key] + 0.35 * a["sd"] * rng.gauss(0, 1)
            if key == "chol" and "hld" in person.conditions:
                v -= 35 * max(0.0, 1.0 - years_ago / 2.0)  # statin effect, improving over time
            if key == "a1c" and "t2dm" in person.conditions:
                v += 0.25 * years_ago
            floor = {
                "trig": 35,
                "hdl": 20,
                "chol": 100,
                "creat": 0.35,
                "a1c": 4.2,
                "tsh": 0.05,
                "vitd": 6,
                "glu": 55,
                "wbc": 2.0,
                "plt": 60,
            }.get(key, a["mean"] * 0.4)
            vals[key] = _round(max(v, floor), a["decimals"])
        # Derived values are computed from the reported (rounded) measurements.
        if "ldl" in C.LAB_TESTS[test][2]:
            vals["chol"] = max(vals["chol"], int(vals["hdl"] + vals["trig"] / 5 + 40))
            vals["ldl"] = vals["chol"] - vals["hdl"] - vals["trig"] / 5
            vals["nonhdl"] = vals["chol"] - vals["hdl"]
        if "mcv" in C.LAB_TESTS[test][2]:
            vals["hct"] = round(vals["hgb"] * rng.uniform(2.85, 3.1), 1)
            vals["mcv"] = vals["hct"] / vals["rbc"] * 10
            vals["mch"] = vals["hgb"] / vals["rbc"] * 10
            vals["mchc"] = vals["hgb"] / vals["hct"] * 100
        if "egfr" in C.LAB_TESTS[test][2]:
            scr = round(vals["creat"], 2)
            kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
            age = max(18, base["_age"] - int(years_ago))
            egfr = 142 * min(scr / kappa, 1) ** alpha * max(scr / kappa, 1) ** -1.200 * 0.9938**age
            vals["egfr"] = egfr * (1.012 if female else 1.0)
        if "eag" in C.LAB_TESTS[test][2]:
            vals["eag"] = 28.7 * round(vals["a1c"], 1) - 46.7
        comps = []
        for key in C.LAB_TESTS[test][2]:
            a = C.ANALYTES[key]
            low, high = a.get("ref") or (a["ref_f"] if female else a["ref_m"])
            value = _round(vals[key], a["decimals"])
            flag = "normal"
            if high is not None and value > high:
                flag = "H"
            elif low is not None and value < low:
                flag = "L"
            comps.append(
                {
                    "loinc": a["loinc"],
                    "name": a["name"],
                    "value": value,
                    "unit": a["unit"],
                    "ref_low": low,
                    "ref_high": high,
                    "flag": flag,
                }
            )
        return comps

    def _results(
        self,
        rng: random.Random,
        person: _Person,
        age: int,
        pcp: Record,
        encounters: list[Encounter],
    ) -> None:
        sink = self._sink
        if person.patient is None:
            raise ValueError("person.patient is None")
        pid = person.patient["id"]
        base = self._baselines(rng, person, age)
        radiologists = self.by_specialty.get("Radiology") or self.providers
        prior_imaging: dict[str, str] = {}
        for start, duration, prov, _vtype, reason, orders in encounters:
            ordering = pcp if prov["specialty"] == "Radiology" else prov
            for test in orders:
                imaging = test in C.IMAGING_TESTS
                if imaging:
                    name, code, _ = C.IMAGING_TESTS[test]
                    collected = start + timedelta(minutes=10)
                    resulted = collected + timedelta(minutes=rng.randint(60, 36 * 60))
                else:
                    name, code = C.LAB_TESTS[test][0], C.LAB_TESTS[test][1]
                    collected = start + timedelta(minutes=duration + rng.randint(5, 25))
                    slow = test in ("a1c", "vitd")
                    resulted = collected + timedelta(
                        minutes=rng.randint(18 * 60 if slow else 180, 60 * 60 if slow else 20 * 60)
                    )
                if resulted > self.now:
                    continue  # still in the lab: not a result yet
                report = None
                comps: list[Record] = []
                abnormal = False
                if imaging:
                    findings, impression = rng.choice(
                        C.CXR_FINDINGS if test == "cxr" else C.MAMMO_FINDINGS
                    )
                    abnormal = impression.startswith(("BI-RADS 0", "Right lower lobe"))
                    rad = rng.choice(radiologists)
                    comparison = prior_imaging.get(test, "None.")
                    report = (
                        f"EXAM: {name}\nCLINICAL INDICATION: {reason}\nCOMPARISON: {comparison}\n"
                        f"FINDINGS: {findings}\nIMPRESSION: {impression}\n"
                        f"Electronically signed by {rad['display_name']} on {ts(resulted)}"
                    )
                    prior_imaging[test] = f"{name} dated {collected.date().isoformat()}."
                else:
                    comps = self._measure(rng, person, base, test, collected)
                    abnormal = any(c["flag"] != "normal" for c in comps)
                hours_since = (self.now - resulted).total_seconds() / 3600
                status = "final"
                if hours_since < 48 and rng.random() < 0.5:
                    status = "preliminary"
                elif hours_since > 24 * 30 and rng.random() < 0.02:
                    status = "corrected"
                # Release: most results are released automatically within a day or
                # two; abnormal imaging is held for provider review; a few recent
                # results are still pending review.
                delay_h = rng.uniform(0, 36) + (72 if abnormal and imaging else 0)
                released: datetime | None
                released = resulted + timedelta(minutes=int(delay_h * 60))
                if (
                    released > self.now
                    or (hours_since < 24 * 14 and rng.random() < 0.35)
                    or (abnormal and hours_since < 24 * 30 and rng.random() < 0.3)
                ):
                    released = None  # pending provider review
                comment = None
                if released is not None and rng.random() < 0.5:
                    comment = rng.choice(
                        C.RESULT_COMMENTS_ABNORMAL if abnormal else C.RESULT_COMMENTS_NORMAL
                    )
                sink.emit(
                    "results",
                    {
                        "id": sink.new_id("results"),
                        "patient_id": pid,
                        "ordering_provider_id": ordering["id"],
                        "name": name,
                        "code": code,
                        "kind": "imaging" if imaging else "lab",
                        "collected_at": ts(collected),
                        "resulted_at": ts(resulted),
                        "status": status,
                        "released_at": ts(released) if released else None,
                        "provider_comment": comment,
                        "report": report,
                        "components": comps,
                    },
                )

    # -- messaging -----------------------------------------------------------

    def _threads(self, rng: random.Random, person: _Person, pcp: Record) -> None:
        if person.patient is None:
            raise ValueError("person.patient is None")
        authors: list[Record] = []
        if person.account is not None:
            authors.append(person.account)
        for acct, scopes in person.effective_proxies:
            if "messages" in scopes:
                authors.append(acct)
        if not authors:
            return
        sink = self._sink
        n = _weighted(rng, [(0, 10), (1, 15), (2, 20), (3, 20), (4, 15), (5, 10), (6, 5), (8, 5)])
        meds = person.active_meds or ["my medication"]
        threads = []
        for _ in range(n):
            category = _weighted(
                rng, [("medical_question", 40), ("refill", 25), ("scheduling", 20), ("billing", 15)]
            )
            med = rng.choice(meds)
            subject = rng.choice(C.THREAD_SUBJECTS[category]).format(med=med)
            provider: Record | None = None
            team = C.CARE_TEAMS.get(category)
            if team is None:
                provider = pcp
                team = None
            created = self.now - timedelta(minutes=rng.randint(30, 365 * 24 * 60))
            threads.append((created, category, subject, provider, team, med))
        threads.sort(key=lambda t: t[0])
        for created, category, subject, provider, team, med in threads:
            tid = sink.new_id("message_threads")
            author = rng.choice(authors)
            n_msgs = _weighted(rng, [(1, 10), (2, 20), (3, 20), (4, 20), (5, 12), (6, 10), (8, 8)])
            msgs = []
            when = created
            for i in range(n_msgs):
                from_patient = i % 2 == 0
                if i > 0:
                    when = when + timedelta(
                        minutes=rng.randint(20, 48 * 60)
                        if not from_patient
                        else rng.randint(30, 72 * 60)
                    )
                    if when > self.now - timedelta(minutes=5):
                        break
                if from_patient:
                    lines = C.PATIENT_OPENERS[category] if i == 0 else C.PATIENT_FOLLOWUPS[category]
                else:
                    lines = C.STAFF_LINES[category]
                body = rng.choice(lines).format(med=med)
                read_after = timedelta(minutes=rng.randint(10, 3 * 24 * 60))
                read_at: datetime | None
                read_at = when + read_after
                if read_at > self.now:
                    read_at = None
                if from_patient:
                    kind, sender_id, sender_name = "patient", author["id"], author["display_name"]
                elif provider is not None:
                    kind, sender_id, sender_name = (
                        "provider",
                        provider["id"],
                        provider["display_name"],
                    )
                else:
                    kind, sender_id, sender_name = "provider", None, team
                msgs.append(
                    {
                        "id": sink.new_id("messages"),
                        "thread_id": tid,
                        "sender_kind": kind,
                        "sender_id": sender_id,
                        "sender_name": sender_name,
                        "body": body,
                        "sent_at": ts(when),
                        "read_at": ts(read_at) if read_at else None,
                    }
                )
            sink.emit(
                "message_threads",
                {
                    "id": tid,
                    "patient_id": person.patient["id"],
                    "subject": subject,
                    "category": category,
                    "provider_id": provider["id"] if provider else None,
                    "care_team": team,
                    "created_at": ts(created),
                    "last_message_at": msgs[-1]["sent_at"],
                },
            )
            for m in msgs:
                sink.emit("messages", m)

    # -- billing -------------------------------------------------------------

    def _statements(
        self, rng: random.Random, guarantor: _Person, events: list[tuple[datetime, str, list[str]]]
    ) -> None:
        sink = self._sink
        if guarantor.patient is None:
            raise ValueError("guarantor.patient is None")
        gid = guarantor.patient["id"]
        age = age_on(guarantor.birth, self.today)
        if age < 65:
            plan = _weighted(rng, [("commercial", 80), ("medicaid", 15), ("self_pay", 5)])
        else:
            plan = _weighted(rng, [("medicare", 85), ("commercial", 15)])
        copay = rng.choice((2000, 2500, 3000, 4000, 5000))
        coins = rng.choice((0.1, 0.2, 0.2, 0.3))
        account_number = f"{(40000000 + int(gid.split('-')[1]) * 37) % 100000000:08d}"
        cycles: dict[date, list[tuple[datetime, str, list[str]]]] = {}
        horizon = self.today - timedelta(days=550)
        for when, patient_id, codes in events:
            if when.date() < horizon:
                continue
            first = date(when.year, when.month, 1)
            stmt_day = (first + timedelta(days=32)).replace(day=5)
            if stmt_day > self.today:
                continue  # not billed yet
            cycles.setdefault(stmt_day, []).append((when, patient_id, codes))
        for stmt_day in sorted(cycles):
            lines: list[Record] = []
            for when, patient_id, codes in sorted(cycles[stmt_day], key=lambda e: (e[0], e[1])):
                for code in codes:
                    desc, lo, hi = C.CPT[code]
                    charge = rng.randint(lo, hi) * 100 + rng.choice((0, 0, 50, 99))
                    if plan == "self_pay":
                        allowed = charge
                        adjustment = int(charge * 0.3)
                        patient = charge - adjustment
                        insurance = 0
                    else:
                        allowed = round(charge * rng.uniform(0.45, 0.8))
                        adjustment = charge - allowed
                        if plan == "medicaid":
                            patient = 0
                        elif code in (
                            "99395",
                            "99396",
                            "99397",
                            "99392",
                            "99393",
                            "99394",
                            "G0439",
                            "77067",
                            "90686",
                            "90471",
                        ):
                            patient = 0  # preventive: covered in full
                        elif code.startswith("99") and code != "99051":
                            patient = min(
                                allowed, copay if plan == "commercial" else int(allowed * 0.2)
                            )
                        elif rng.random() < 0.25:
                            patient = allowed  # deductible not met
                        else:
                            patient = round(allowed * coins)
                        insurance = allowed - patient
                    lines.append(
                        {
                            "id": None,
                            "service_date": when.date().isoformat(),
                            "patient_id": patient_id,
                            "description": desc,
                            "code": code,
                            "charge_cents": charge,
                            "insurance_paid_cents": insurance,
                            "adjustment_cents": adjustment,
                            "patient_cents": patient,
                        }
                    )
            total = sum(li["patient_cents"] for li in lines)
            if total <= 0:
                continue
            sid = sink.new_id("statements")
            for n, li in enumerate(lines, start=1):
                li["id"] = f"{LINE_ITEM_PREFIX}-{sid.split('-')[1]}-{n:02d}"
            due = stmt_day + timedelta(days=25)
            # Payments
            overdue = due < self.today
            outcome = _weighted(
                rng,
                [("paid", 65), ("partial", 15), ("unpaid", 20)]
                if overdue
                else [("paid", 25), ("partial", 10), ("unpaid", 65)],
            )
            payments: list[Record] = []
            window_end = min(self.today, due + timedelta(days=20))
            window_start = stmt_day + timedelta(days=2)
            if window_end <= window_start:
                outcome = "unpaid"
            if outcome != "unpaid":
                if outcome == "paid":
                    amounts = (
                        [total]
                        if rng.random() < 0.75 or total < 2000
                        else [total // 2, total - total // 2]
                    )
                else:
                    amounts = [max(100, int(total * rng.uniform(0.2, 0.6)))]
                    if amounts[0] >= total:
                        amounts = [total // 2] if total >= 2 else []
                paid_days = sorted(
                    rng.randint(0, (window_end - window_start).days) for _ in amounts
                )
                method = _weighted(
                    rng, [("card", 60), ("bank_account", 25), ("hsa_card", 10), ("check", 5)]
                )
                for amount, d in zip(amounts, paid_days, strict=True):
                    paid_at = midnight(window_start + timedelta(days=d)) + timedelta(
                        minutes=rng.randint(8 * 60, 23 * 60)
                    )
                    if paid_at > self.now:
                        paid_at = self.now - timedelta(minutes=rng.randint(10, 600))
                    payments.append(
                        {
                            "id": None,
                            "statement_id": sid,
                            "amount_cents": amount,
                            "paid_at": ts(paid_at),
                            "method": method,
                        }
                    )
            paid = sum(p["amount_cents"] for p in payments)
            sink.emit(
                "statements",
                {
                    "id": sid,
                    "guarantor_patient_id": gid,
                    "account_number": account_number,
                    "statement_date": stmt_day.isoformat(),
                    "due_date": due.isoformat(),
                    "status": "paid" if paid >= total else "open",
                    "line_items": lines,
                },
            )
            for p in payments:
                p["id"] = sink.new_id("payments")
                sink.emit("payments", p)

    # -- open slots ----------------------------------------------------------

    def _slots(self) -> None:
        sink = self._sink
        for idx, prov in enumerate(self.providers):
            spec = prov["specialty"]
            if spec in ("Radiology", "Urgent Care"):
                continue
            rng = self._rng("slots", idx)
            types = C.VISIT_TYPES.get(spec, C.VISIT_TYPES["_specialist"])
            short = [name for name, dur in types if dur <= CELL_MINUTES]
            long_ = [name for name, dur in types if dur > CELL_MINUTES]
            taken = self._occupied.get(prov["id"], set())
            open_p = rng.uniform(0.12, 0.3)
            for offset in range(SLOT_DAYS + 1):
                day = self.today + timedelta(days=offset)
                if day.weekday() >= 5:
                    continue
                base = day.toordinal() * 64
                cell = 0
                while cell < CELLS_PER_DAY:
                    start = self._cell_start(day, cell)
                    if (
                        base + cell in taken
                        or start < self.now + timedelta(hours=2)
                        or rng.random() >= open_p
                    ):
                        cell += 1
                        continue
                    double = (
                        long_
                        and cell + 1 < CELLS_PER_DAY
                        and base + cell + 1 not in taken
                        and rng.random() < 0.35
                    )
                    duration = 2 * CELL_MINUTES if double else CELL_MINUTES
                    vtypes = (long_ + short) if double else (short or long_)
                    sink.emit(
                        "slots",
                        {
                            "id": sink.new_id("slots"),
                            "provider_id": prov["id"],
                            "department_id": prov["department_id"],
                            "starts_at": ts(start),
                            "duration_minutes": duration,
                            "visit_types": vtypes,
                        },
                    )
                    cell += 2 if double else 1


def generate(
    out_dir: str, patients: int, seed: int = DEFAULT_SEED, now: str = DEFAULT_NOW
) -> dict[str, Any]:
    """Convenience wrapper: generate and write a dataset, return its manifest."""
    return Generator(patients=patients, seed=seed, now=now).write(out_dir)
