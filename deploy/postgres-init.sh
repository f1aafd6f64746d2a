#!/bin/sh
# Roles for Townhall: the owner migrates and owns the tables; the app role owns nothing and
# cannot bypass row-level security.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
CREATE ROLE townhall_owner LOGIN PASSWORD '${TOWNHALL_OWNER_PASSWORD}' NOSUPERUSER NOBYPASSRLS;
CREATE ROLE townhall_app LOGIN PASSWORD '${TOWNHALL_APP_PASSWORD}' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE townhall OWNER townhall_owner;
SQL
