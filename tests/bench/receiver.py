# See LICENSE file for copyright and license details.
# The Flask receiver from Makini's webhook documentation, extended as a
# real one must be: the secret comes from a file, a bad signature is
# refused, and each event is written to a file before the answer, with the
# same durability as makini-webhook (tmp/, fsync, rename into new/, fsync
# of new/). It is the benchmark's point of comparison, not a product.
import hashlib
import hmac
import json
import os
import uuid

from flask import Flask, request

app = Flask(__name__)

with open(os.environ["MAKINI_WEBHOOK_SECRET_FILE"], "rb") as f:
    API_SECRET_KEY = f.read().rstrip(b"\n")
SPOOL = os.environ["MAKINI_WEBHOOK_SPOOL"]
for sub in ("tmp", "new"):
    os.makedirs(os.path.join(SPOOL, sub), exist_ok=True)


def verify_webhook(data, hmac_header):
    # Calculate HMAC
    digest = hmac.new(API_SECRET_KEY, data, digestmod=hashlib.sha256).digest()
    computed_hmac = digest.hex().encode('utf-8')

    return hmac.compare_digest(computed_hmac, hmac_header.encode('utf-8'))


def store(data):
    name = uuid.uuid4().hex + ".json"
    tmp = os.path.join(SPOOL, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.write(fd, data)
        os.fdatasync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(SPOOL, "new", name))
    dfd = os.open(os.path.join(SPOOL, "new"), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return name


@app.route('/webhook', methods=['GET', 'POST'])
def handle_webhook():
    if request.method == 'GET':
        return {"status": "ok"}, 200
    # Get raw body
    data = request.get_data()
    # Compare HMACs
    signature = request.headers.get('X-Webhook-Signature') or request.headers.get('x-webhook-signature')
    if not signature or not verify_webhook(data, signature):
        return {"status": "error", "error": "signature mismatch"}, 401
    event = json.loads(data).get("event")
    return {"status": "accepted", "event": event, "id": store(data)}, 200
