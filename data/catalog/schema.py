"""Every table of the catalog, in one place (as datasette keeps its internal tables).

The catalog is the store's mutable part: what was loaded and which data version is live, and
what people make (accounts, sessions, rosters, saved reports, SSR deliveries, language
overrides, portal credentials, the audit log) and the CDE research files imported. It is a
SQLite file in the store directory, or a PostgreSQL database (``data.catalog.db``); these
SQLAlchemy tables describe it for both.
Tables are created when missing, so adding a table here is all a new feature needs; changing
a column of an existing table needs a migration (none yet: the first would bring Alembic).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

METADATA = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")
"""An id the database numbers (SQLite numbers only an INTEGER PRIMARY KEY)."""

# -- The results store: its load history and data version (``data.results.loading``) --------
loads = Table(
    "loads", METADATA,
    Column("load_id", Integer, primary_key=True, autoincrement=False),
    Column("file_name", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("kind", String, nullable=False),  # enrolled | tested
    Column("school_year", String, nullable=False),
    Column("layout_year", String, nullable=False),
    Column("report_created_date", Date),
    Column("n_records", Integer, nullable=False),
    Column("n_rejected", Integer, nullable=False),
    Column("loaded_at", DateTime, nullable=False),
    Column("loaded_by", String),
    Column("extra_fields", Text, nullable=False),  # JSON list: the fields packed in extra_fields
    Column("data_version", Integer, nullable=False),  # the data version this load committed
)
load_leas = Table(
    "load_leas", METADATA,
    Column("load_id", Integer, primary_key=True),
    Column("lea_code", String, primary_key=True),
    Column("n_records", Integer, nullable=False),
    Column("superseded_by", Integer),  # the later load of the same LEA, year and kind
)
store_meta = Table(
    "store_meta", METADATA,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

# -- Local accounts, what each is assigned, and their signed-in sessions ---------------------
users = Table(
    "users", METADATA,
    Column("email", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),
    Column("password_hash", String),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("last_sign_in", DateTime),
)
user_assignments = Table(
    "user_assignments", METADATA,
    Column("email", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("code", String, primary_key=True),
)
sessions = Table(
    "sessions", METADATA,
    Column("token_hash", String, primary_key=True),  # sha256 of the cookie's token
    Column("email", String, nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("handed_off_at", DateTime),  # when the browser took its cookie (once only)
    Column("revoked_at", DateTime),
)

# -- The audit log, only ever added to (``data.catalog.audit``) -------------------------------
audit = Table(
    "audit", METADATA,
    Column("audit_id", _ID, primary_key=True,
           autoincrement=True),
    Column("logged_at", DateTime, nullable=False),
    Column("user_email", String, nullable=False),
    Column("action", String, nullable=False),
    Column("scope", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("n_rows", BigInteger),
)

# -- Rosters made by LEA staff: students, users, uploads (``data.catalog.rosters``) ----------
rosters = Table(
    "rosters", METADATA,
    Column("name", String, primary_key=True),
    Column("school_code", String, primary_key=True),
    Column("created_by", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
)
roster_students = Table(
    "roster_students", METADATA,
    Column("name", String, primary_key=True),
    Column("school_code", String, primary_key=True),
    Column("ssid", String, primary_key=True),
)
roster_users = Table(
    "roster_users", METADATA,
    Column("name", String, primary_key=True),
    Column("school_code", String, primary_key=True),
    Column("email", String, primary_key=True),
)
roster_uploads = Table(
    "roster_uploads", METADATA,
    Column("upload_id", _ID, primary_key=True,
           autoincrement=True),
    Column("uploaded_at", DateTime, nullable=False),
    Column("uploaded_by", String, nullable=False),
    Column("file_name", String, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_problems", BigInteger, nullable=False),
    Column("loaded", Boolean, nullable=False),
)

# -- SSR language overrides (``data.catalog.ssr_languages``) --------------------------------
ssr_language_overrides = Table(
    "ssr_language_overrides", METADATA,
    Column("ssid", String, primary_key=True),
    Column("school_year", String, primary_key=True),
    Column("record_type", String, primary_key=True),
    Column("languages", String, nullable=False),
    Column("set_by", String, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

# -- How SSRs reached parents, what came back, uploads (``data.catalog.ssr_deliveries``) -----
ssr_deliveries = Table(
    "ssr_deliveries", METADATA,
    Column("delivery_id", _ID, primary_key=True, autoincrement=True),
    Column("ssid", String, nullable=False),
    Column("school_year", String, nullable=False),
    Column("record_type", String, nullable=False),
    Column("method", String, nullable=False),  # portal | email | mail | in_person
    Column("delivered_on", Date, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("upload_id", BigInteger),  # the upload it came from (NULL: one by hand)
)
ssr_delivery_failures = Table(
    "ssr_delivery_failures", METADATA,
    Column("failure_id", _ID, primary_key=True, autoincrement=True),
    Column("ssid", String, nullable=False),
    Column("school_year", String, nullable=False),
    Column("record_type", String, nullable=False),
    Column("kind", String, nullable=False),  # bounced | returned
    Column("reported_on", Date, nullable=False),
    Column("detail", Text, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("upload_id", BigInteger),
    Column("resolved_at", DateTime),
    Column("resolved_by", String),
)
ssr_delivery_uploads = Table(
    "ssr_delivery_uploads", METADATA,
    Column("upload_id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),  # deliveries | failures
    Column("uploaded_at", DateTime, nullable=False),
    Column("uploaded_by", String, nullable=False),
    Column("file_name", String, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_problems", BigInteger, nullable=False),
    Column("loaded", Boolean, nullable=False),
)

# -- Parent-portal credentials, one per LEA (``data.catalog.portal_credentials``) ------------
portal_credentials = Table(
    "portal_credentials", METADATA,
    Column("lea_code", String, primary_key=True),  # one per LEA: a new one replaces it
    Column("key_id", String, nullable=False),  # the token's public part, to find the row
    Column("secret_hash", String, nullable=False),  # Argon2id hash of the token's secret
    Column("created_by", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# -- Saved reports: a user's named Custom reports (``data.catalog.saved_reports``) ----------
saved_reports = Table(
    "saved_reports", METADATA,
    Column("owner", String, primary_key=True),  # the user's e-mail, or "local"
    Column("name", String, primary_key=True),
    Column("params", Text, nullable=False),  # ReportSpec.to_params() as JSON
    Column("saved_at", DateTime, nullable=False),
)

# -- CDE's public research files imported as published aggregates (``data.published``) -----
published_files = Table(
    "published_files", METADATA,
    Column("file_id", Integer, primary_key=True, autoincrement=False),
    Column("school_year", String, nullable=False),
    Column("test", String, nullable=False),  # summative | alternate
    Column("file_name", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("version_label", String, nullable=False),  # the file name's v1, v2 ("" if none)
    Column("entities_file", String),
    Column("n_rows", BigInteger, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("imported_by", String, nullable=False),
    Column("is_current", Boolean, nullable=False),  # the year and test's current version
)
