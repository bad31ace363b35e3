#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): one login role per
# service, owning a database of its own, so a service can read and change only its own tables. The passwords
# come from the compose environment (DVC_<SERVICE>_DB_PASSWORD, required there). On an existing volume run it by
# hand: docker compose exec postgres sh /docker-entrypoint-initdb.d/10-init-roles.sh (docs/operations.md).
set -eu
prefix="${DVC_DB_NAME_PREFIX:-dvc_}"  # role and database names: dvc_indicators, ... (tests use another prefix)

create_service_role() {
    service="$1"
    password="$2"
    if [ -z "$password" ]; then
        echo "init-roles: no password for $service (DVC_$(echo "$service" | tr a-z A-Z)_DB_PASSWORD)" >&2
        exit 1
    fi
    # psql variables (:"name" quotes an identifier, :'password' a literal): no shell quoting of the secret
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v name="$prefix$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name')
\gexec
ALTER ROLE :"name" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name')
\gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
SQL
}

create_service_role indicators "${DVC_INDICATORS_DB_PASSWORD:-}"
create_service_role tasks "${DVC_TASKS_DB_PASSWORD:-}"
create_service_role notifier "${DVC_NOTIFIER_DB_PASSWORD:-}"
