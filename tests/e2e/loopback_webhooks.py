#!/usr/bin/python3
"""loopback_webhooks.py: a webhook configuration the chart installed, pointed at the test's server.

Usage: loopback_webhooks.py LIVE.json BASE_URL CA.crt > PUT.json
       loopback_webhooks.py --compare LIVE.json RENDERED.json   (exit 1 on a difference)
The Deployment cannot run without nodes, so the suite runs the server on loopback and replaces each
webhook's clientConfig.service with url BASE_URL + the service's path and the caBundle of CA.crt;
everything else (rules, selectors, matchConditions, failurePolicy, timeouts) stays as stored.
--compare checks that every field the chart rendered, clientConfig aside, is what the API server
holds (it may add defaults of its own), and prints each difference.
"""
import base64
import json
import sys


def repoint(live, base, ca_file):
    ca = base64.b64encode(open(ca_file, "rb").read()).decode()
    for w in live["webhooks"]:
        path = w["clientConfig"]["service"].get("path", "/")
        w["clientConfig"] = {"url": base + path, "caBundle": ca}
    return live


def differences(rendered, live, where):
    if isinstance(rendered, dict) and isinstance(live, dict):
        for k, v in rendered.items():
            yield from differences(v, live.get(k), f"{where}.{k}")
    elif rendered != live:
        yield f"{where}: rendered {json.dumps(rendered)}, stored {json.dumps(live)}"


def main():
    if sys.argv[1] == "--compare":
        live, rendered = (json.load(open(f)) for f in sys.argv[2:4])
        stored = {w["name"]: w for w in live["webhooks"]}
        diffs = []
        for w in rendered["webhooks"]:
            if w["name"] not in stored:
                diffs.append(f"{w['name']}: not stored")
                continue
            want = {k: v for k, v in w.items() if k != "clientConfig"}
            diffs += differences(want, stored[w["name"]], w["name"])
        if len(stored) != len(rendered["webhooks"]):
            diffs.append(f"{len(stored)} webhooks stored, {len(rendered['webhooks'])} rendered")
        print("\n".join(diffs))
        return 1 if diffs else 0
    live = json.load(open(sys.argv[1]))
    json.dump(repoint(live, sys.argv[2], sys.argv[3]), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
