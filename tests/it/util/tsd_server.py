"""TSD's file API (the real server code, unmodified) plus an emulation of
TSD's authentication API, in one process on 127.0.0.1, for recpipe's tests.

Started by tests/it/util/tsd_api.rs from a copy of the vendored
tsd-file-api folder (the working directory). The file API runs with its
own development defaults (tsdfileapi/defaults.py), moved under ROOT, with
`jwt_secret` set so that it verifies every token's signature, and with
production's disallowed start characters (".~").

TSD's authentication service is not public. Its endpoints are emulated
exactly as tsd-api-client's authapi.py calls them (see docs/destinations.md
for what was assumed): POST /v1/{pnum}/auth/basic/token?type=import,
/v1/all/auth/instances/token (body {"id", "secret_challenge"}),
/v1/{pnum}/auth/tsd/token (body {"user_name", "password", "otp"}) and
/v1/{pnum}/auth/refresh/token (body {"refresh_token"}), each with
"Authorization: Bearer API_KEY"; answers {"token", "refresh_token"}. Tokens
carry the claims the dev server's tokens carry (tsdfileapi/tokens.py).

What the emulation accepts is read from the JSON file RECPIPE_TSD_STATE on
every request, so a test can revoke a key mid-run. Each request is logged
as one JSON line to ROOT/auth.log (route and outcome only, never a secret).
"""

import copy
import json
import os
import sys
import time
import uuid

import yaml

ROOT = os.environ["RECPIPE_TSD_ROOT"]
PORT = int(os.environ["RECPIPE_TSD_PORT"])
STATE = os.environ["RECPIPE_TSD_STATE"]
sys.path.insert(0, os.getcwd())  # the copy of the server folder

from tsdfileapi import defaults  # noqa: E402

config = copy.deepcopy(defaults._config)


def _move(value):
    if isinstance(value, str) and value.startswith(defaults.TMP):
        return ROOT + value[len(defaults.TMP):]
    if isinstance(value, dict):
        return {k: _move(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_move(v) for v in value]
    return value


config = _move(config)
# RECPIPE_TSD_UNSIGNED=1 (benches/tsd-vs-tacl.sh only): the dev default of
# no signature check, so tacl's `--env dev` tokens from /v1/p11/token work.
if os.environ.get("RECPIPE_TSD_UNSIGNED") != "1":
    with open(STATE) as f:
        config["jwt_secret"] = json.load(f)["secret"]
config["disallowed_start_chars"] = ".~"
config["port"] = PORT
config_path = os.path.join(ROOT, "file-api-config.yaml")
with open(config_path, "w") as f:
    yaml.dump(config, f)
sys.argv = [sys.argv[0], config_path, f"--port:{PORT}"]

import tornado.web  # noqa: E402
from jwcrypto import jwk, jwt  # noqa: E402

import tsdfileapi.api as api  # noqa: E402  (reads sys.argv[1])


def _state():
    with open(STATE) as f:
        return json.load(f)


def _sign(secret, claims):
    key = jwk.JWK(k=secret, kty="oct")
    token = jwt.JWT(header={"alg": "HS256"}, claims=claims, algs=["HS256"])
    token.make_signed_token(key)
    return token.serialize()


def _verify(secret, token):
    key = jwk.JWK(k=secret, kty="oct")
    t = jwt.JWT(algs=["HS256"])
    t.deserialize(token, key=key)
    return json.loads(t.claims)


class AuthHandler(tornado.web.RequestHandler):
    def _audit(self, route, outcome):
        with open(os.path.join(ROOT, "auth.log"), "a") as f:
            f.write(json.dumps({"route": route, "outcome": outcome, "at": time.time()}) + "\n")

    def _refuse(self, route, status, message):
        self._audit(route, f"refused {status}")
        self.set_status(status)
        self.write({"message": message})

    def _issue(self, route, state, pnum, user, refreshes):
        now = int(time.time())
        claims = {
            "role": "import_user",
            "exp": now + int(state.get("token_seconds", 3600)),
            "proj": pnum,
            "user": user,
            "groups": [f"{pnum}-member-group"],
            "pid": str(uuid.uuid4()),
            "name": "import",
            "host": "api.tsd.usit.no",
            "full_name": None,
        }
        answer = {"token": _sign(state["secret"], claims)}
        if refreshes > 0:
            answer["refresh_token"] = _sign(
                state["secret"],
                {
                    "kind": "refresh",
                    "counter": refreshes,
                    "proj": pnum,
                    "user": user,
                    "exp": now + 12 * 3600,
                    "jti": str(uuid.uuid4()),
                },
            )
        self._audit(route, "issued")
        self.set_status(201)
        self.write(answer)

    def post(self, pnum, route):
        state = _state()
        if self.get_query_argument("type", "import") != "import" and route != "refresh":
            return self._refuse(route, 400, "only import tokens here")
        header = self.request.headers.get("Authorization", "")
        api_key = header[7:] if header.startswith("Bearer ") else ""
        client = state["api_keys"].get(api_key)
        if client is None or client.get("revoked"):
            return self._refuse(route, 401, "invalid API key")
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            return self._refuse(route, 400, "body is not JSON")
        refreshes = int(state.get("refreshes", 0))
        if route == "basic":
            if self.request.remote_ip not in state.get("basic_allowed", []):
                return self._refuse(route, 403, "not allowed from this address")
            return self._issue(route, state, pnum, f"{pnum}-{client['name']}", refreshes)
        if route == "instances":
            if pnum != "all":
                return self._refuse(route, 404, "instances are under /v1/all")
            link = state.get("links", {}).get(body.get("id", ""))
            if link is None:
                return self._refuse(route, 401, "unknown link")
            if link.get("secret") and body.get("secret_challenge") != link["secret"]:
                return self._refuse(route, 401, "wrong secret challenge")
            return self._issue(route, state, link["project"], f"{link['project']}-import-link", 0)
        if route == "tsd":
            user = state.get("users", {}).get(body.get("user_name", ""))
            used = os.path.join(ROOT, "used-otps")
            seen = open(used).read().split() if os.path.exists(used) else []
            if (
                user is None
                or body.get("password") != user["password"]
                or body.get("otp") != user["otp"]
                or body.get("otp") in seen
            ):
                return self._refuse(route, 401, "login failed")
            with open(used, "a") as f:
                f.write(body["otp"] + "\n")
            return self._issue(route, state, pnum, body["user_name"], refreshes)
        if route == "refresh":
            try:
                claims = _verify(state["secret"], body.get("refresh_token", ""))
            except Exception:
                return self._refuse(route, 401, "invalid refresh token")
            if claims.get("kind") != "refresh" or claims.get("proj") != pnum:
                return self._refuse(route, 401, "invalid refresh token")
            return self._issue(route, state, pnum, claims["user"], int(claims["counter"]) - 1)
        return self._refuse(route, 404, "unknown route")


api.Backends.default_routes["auth"] = [
    ("/v1/([^/]+)/auth/(basic|instances|tsd|refresh)/token", AuthHandler),
]

if __name__ == "__main__":
    api.main()
