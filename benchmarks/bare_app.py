"""The stack's ceiling: a Flask page that does nothing, served by the same gunicorn as
the portal in benchmarks.casework_queue, to compare the queue page's throughput with."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def bare() -> str:
    return "ok"
