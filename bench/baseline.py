"""The bare baseline of docs/benchmarks.md: Flask + SQLAlchemy Core + psycopg 3, no Townhall code.

Townhall endpoints are reported as ratios to this app measured in the same run, because absolute
numbers vary ±20-40 % between runs. bench/run.py creates and seeds `bench_rows` before gunicorn
starts: DDL at import would race between the workers.
"""

import os
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, create_engine, func, insert, select

metadata = MetaData()
bench_rows = Table(
    "bench_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

# Plain defaults (pool of 5, no pre-ping): the baseline is what a bare app costs, nothing more.
engine = create_engine(os.environ["BENCH_DATABASE_URL"])
app = Flask(__name__)


def _as_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "created_at": row.created_at.isoformat()}


@app.get("/rows/<int:row_id>")
def get_row(row_id: int) -> Response:
    with engine.connect() as connection:
        row = connection.execute(select(bench_rows).where(bench_rows.c.id == row_id)).one_or_none()
    if row is None:
        abort(404)
    return jsonify(_as_json(row))


@app.post("/rows")
def create_row() -> tuple[Response, int]:
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        abort(400)
    with engine.begin() as connection:  # commits at the end of the block
        row = connection.execute(insert(bench_rows).values(name=name).returning(*bench_rows.c)).one()
    return jsonify(_as_json(row)), 201
