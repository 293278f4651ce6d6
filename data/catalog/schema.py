"""Every table of the catalog, in one place (as datasette keeps its internal tables).

The catalog is the store's mutable part: what was loaded and which data version is live, and
what people make (accounts, rosters, saved reports, SSR deliveries, language overrides, portal
credentials, the audit log). Tables are created on first write, and a store made by an older
explorer gets the tables it lacks on first read (``data.catalog.db``): each statement is
``CREATE TABLE IF NOT EXISTS``, so adding a table here is all a new feature needs. Changing a
column of an existing table needs a migration, which this module does not do.
"""

from __future__ import annotations

TABLES: list[str] = []
"""Every CREATE TABLE statement, in creation order."""

# -- The results store: its load history and data version (``data.results.loading``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS loads (
        load_id INTEGER PRIMARY KEY,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,            -- enrolled | tested
        school_year VARCHAR NOT NULL,
        layout_year VARCHAR NOT NULL,
        report_created_date DATE,
        n_records INTEGER NOT NULL,
        n_rejected INTEGER NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        loaded_by VARCHAR,
        extra_fields VARCHAR NOT NULL,    -- JSON list: the fields packed in extra_fields
        data_version INTEGER NOT NULL     -- the data version this load committed
    )""",
    """CREATE TABLE IF NOT EXISTS load_leas (
        load_id INTEGER NOT NULL,
        lea_code VARCHAR NOT NULL,
        n_records INTEGER NOT NULL,
        superseded_by INTEGER,            -- the later load of the same LEA, year and kind
        PRIMARY KEY (load_id, lea_code)
    )""",
    """CREATE TABLE IF NOT EXISTS store_meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
]

# -- Local accounts and what each is assigned (``data.catalog.accounts``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS users (
        email VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        password_hash VARCHAR,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TIMESTAMP,
        created_at TIMESTAMP NOT NULL,
        last_sign_in TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS user_assignments (
        email VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        code VARCHAR NOT NULL,
        PRIMARY KEY (email, kind, code)
    )""",
]

# -- The audit log, only ever added to (``data.catalog.audit``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS audit (
        logged_at TIMESTAMP NOT NULL,
        user_email VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        detail VARCHAR NOT NULL,
        n_rows BIGINT
    )""",
]

# -- Rosters made by LEA staff, their students, users and uploads (``data.catalog.rosters``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS rosters (
        name VARCHAR NOT NULL,
        school_code VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (name, school_code)
    )""",
    """CREATE TABLE IF NOT EXISTS roster_students (
        name VARCHAR NOT NULL, school_code VARCHAR NOT NULL, ssid VARCHAR NOT NULL,
        PRIMARY KEY (name, school_code, ssid)
    )""",
    """CREATE TABLE IF NOT EXISTS roster_users (
        name VARCHAR NOT NULL, school_code VARCHAR NOT NULL, email VARCHAR NOT NULL,
        PRIMARY KEY (name, school_code, email)
    )""",
    """CREATE TABLE IF NOT EXISTS roster_uploads (
        uploaded_at TIMESTAMP NOT NULL, uploaded_by VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        n_rows BIGINT NOT NULL, n_problems BIGINT NOT NULL, loaded BOOLEAN NOT NULL
    )""",
]

# -- SSR language overrides (``data.catalog.ssr_languages``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS ssr_language_overrides (
        ssid VARCHAR NOT NULL, school_year VARCHAR NOT NULL, record_type VARCHAR NOT NULL,
        languages VARCHAR NOT NULL, set_by VARCHAR NOT NULL, set_at TIMESTAMP NOT NULL,
        PRIMARY KEY (ssid, school_year, record_type)
    )""",
]

# -- How SSRs reached parents, what came back, uploads (``data.catalog.ssr_deliveries``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS ssr_deliveries (
        delivery_id BIGINT PRIMARY KEY,
        ssid VARCHAR NOT NULL, school_year VARCHAR NOT NULL, record_type VARCHAR NOT NULL,
        method VARCHAR NOT NULL,          -- portal | email | mail | in_person
        delivered_on DATE NOT NULL,
        recorded_by VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL,
        upload_id BIGINT                  -- the upload it came from (NULL: one by hand)
    )""",
    """CREATE TABLE IF NOT EXISTS ssr_delivery_failures (
        failure_id BIGINT PRIMARY KEY,
        ssid VARCHAR NOT NULL, school_year VARCHAR NOT NULL, record_type VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,            -- bounced | returned
        reported_on DATE NOT NULL, detail VARCHAR NOT NULL,
        recorded_by VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL,
        upload_id BIGINT,
        resolved_at TIMESTAMP, resolved_by VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS ssr_delivery_uploads (
        upload_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL,   -- deliveries | failures
        uploaded_at TIMESTAMP NOT NULL, uploaded_by VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        n_rows BIGINT NOT NULL, n_problems BIGINT NOT NULL, loaded BOOLEAN NOT NULL
    )""",
]

# -- Parent-portal credentials, one per LEA (``data.catalog.portal_credentials``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS portal_credentials (
        lea_code VARCHAR PRIMARY KEY,     -- one credential per LEA: a new one replaces it
        key_id VARCHAR NOT NULL,          -- the token's public part, to find the row
        secret_hash VARCHAR NOT NULL,     -- Argon2id hash of the token's secret
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
]

# -- Saved reports: a user's named Custom reports (``data.catalog.saved_reports``)
TABLES += [
    """CREATE TABLE IF NOT EXISTS saved_reports (
        owner VARCHAR NOT NULL,           -- the user's e-mail, or "local"
        name VARCHAR NOT NULL,
        params VARCHAR NOT NULL,          -- ReportSpec.to_params() as JSON
        saved_at TIMESTAMP NOT NULL,
        PRIMARY KEY (owner, name)
    )""",
]
