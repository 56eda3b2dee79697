#!/usr/bin/python3
"""tests/e2e/lambda_emulator.py - the AWS Lambda Runtime API 2018-06-01, as its
public reference describes it (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html),
for tests/e2e/lambda.sh; Python 3's standard library only.

  serve --port-file F --out DIR EVENT...
      Binds 127.0.0.1 on a free port (written to F) and hands the events out,
      one per GET /2018-06-01/runtime/invocation/next, with the headers
      Lambda-Runtime-Aws-Request-Id (req-1, req-2, ...), -Deadline-Ms (30 s
      ahead, or 5 s ago for EVENT@past), -Invoked-Function-Arn and -Trace-Id.
      EVENT@chunked sends the event with Transfer-Encoding: chunked.  Answers
      are recorded as DIR/ID.response, or DIR/ID.error and DIR/ID.error-type
      (the Lambda-Runtime-Function-Error-Type header); an init error as
      DIR/init.error and DIR/init.error-type.  Once the queue is empty the
      next GET is held open (as Lambda holds it) and DIR/done is written.
      The test stops it.
  event KIND METHOD PATH [BODY_FILE] [--b64] [--stage S] [-H NAME=VALUE]...
      Prints an event: v2 (API Gateway HTTP API payload 2.0), url (a function
      URL's, also 2.0), v1 (API Gateway REST, payload 1.0), alb, alb-multi
      (an ALB target group with multi-value headers on).
  compare ANSWER CGI_OUT [direct]
      Exit 0 when the runtime's answer has the status and body that score.fcgi
      as CGI printed (a direct invocation's answer is the bare body of a 200).
  expect ANSWER STATUS FRAGMENT
      Exit 0 when an HTTP event's answer has STATUS and its body FRAGMENT.
"""
import base64
import http.server
import json
import os
import socketserver
import sys
import threading
import time

API = "/2018-06-01/runtime"


class Runtime(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b'{"status": "OK"}'):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path != API + "/invocation/next":
            return self.reply(404, b'{"errorMessage": "no such path"}')
        with st["lock"]:
            ev = st["queue"].pop(0) if st["queue"] else None
            st["n"] += 1
            n = st["n"]
        if ev is None:
            open(os.path.join(st["out"], "done"), "w").close()
            while True:   # Lambda holds /next until there is an event
                time.sleep(3600)
        path, opts = ev
        with open(path, "rb") as f:
            body = f.read()
        now = int(time.time() * 1000)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-%d" % n)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(now - 5000 if "past" in opts else now + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:us-east-1:123456789012:function:scorepoint")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e7%02d;Sampled=0" % n)
        if "chunked" in opts:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_POST(self):
        st = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path[len(API):].strip("/").split("/")
        if self.path == API + "/init/error":
            name = "init.error"
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            name = parts[1] + "." + parts[2]
        else:
            return self.reply(404, b'{"errorMessage": "no such path"}')
        if name.endswith("error"):
            try:
                doc = json.loads(body)
                assert isinstance(doc["errorMessage"], str) and isinstance(doc["errorType"], str)
            except Exception:
                return self.reply(400, b'{"errorMessage": "an error body is {errorMessage, errorType}"}')
            with open(os.path.join(st["out"], name + "-type"), "w") as f:
                f.write(self.headers.get("Lambda-Runtime-Function-Error-Type", ""))
        with open(os.path.join(st["out"], name), "wb") as f:
            f.write(body)
        self.reply(202)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(args):
    port_file = args[args.index("--port-file") + 1]
    out = args[args.index("--out") + 1]
    events = [a for i, a in enumerate(args) if not a.startswith("--") and args[i - 1] not in ("--port-file", "--out")]
    queue = [(e.split("@")[0], e.split("@")[1:]) for e in events]
    os.makedirs(out, exist_ok=True)
    srv = Server(("127.0.0.1", 0), Runtime)
    srv.state = {"queue": queue, "out": out, "n": 0, "lock": threading.Lock()}
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


def event(args):
    kind, method, path = args[0], args[1], args[2]
    rest = args[3:]
    body_file = rest.pop(0) if rest and not rest[0].startswith("-") else None
    b64 = "--b64" in rest
    stage = rest[rest.index("--stage") + 1] if "--stage" in rest else None
    headers = {}
    for i, a in enumerate(rest):
        if a == "-H":
            k, v = rest[i + 1].split("=", 1)
            headers[k] = v
    raw = open(body_file, "rb").read() if body_file else None
    body = None if raw is None else base64.b64encode(raw).decode() if b64 else raw.decode()
    if kind in ("v2", "url"):
        headers = {k.lower(): v for k, v in headers.items()}
        domain = "abcdefg.lambda-url.us-east-1.on.aws" if kind == "url" else "id.execute-api.us-east-1.amazonaws.com"
        ev = {"version": "2.0", "routeKey": "$default", "rawPath": ("/" + stage if stage else "") + path,
              "rawQueryString": "a=1&b=%20x", "headers": headers, "queryStringParameters": {"a": "1", "b": " x"},
              "requestContext": {"accountId": "123456789012", "apiId": "abcdefg", "domainName": domain,
                                 "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                          "sourceIp": "192.0.2.1", "userAgent": "curl/7.88"},
                                 "requestId": "r1", "routeKey": "$default", "stage": stage or "$default",
                                 "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390},
              "isBase64Encoded": b64}
        if body is not None:
            ev["body"] = body
    else:
        ev = {"resource": "/{proxy+}", "path": path, "httpMethod": method,
              "queryStringParameters": {"a": "1", "b": " x"}, "body": body, "isBase64Encoded": b64}
        if kind == "v1":
            ev["headers"] = headers
            ev["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
            ev["requestContext"] = {"accountId": "123456789012", "stage": "prod", "httpMethod": method,
                                    "path": "/prod" + path, "requestId": "r1"}
        else:
            ev["requestContext"] = {"elb": {"targetGroupArn":
                                            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"}}
            if kind == "alb-multi":
                ev["multiValueHeaders"] = {k.lower(): [v] for k, v in headers.items()}
                ev["multiValueQueryStringParameters"] = {"a": ["1"], "b": ["%20x"]}
                del ev["queryStringParameters"]
            else:
                ev["headers"] = {k.lower(): v for k, v in headers.items()}
    json.dump(ev, sys.stdout)


def cgi_split(path):
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    return status, hdrs, body


def http_answer(path):
    doc = json.load(open(path))
    body = base64.b64decode(doc["body"], validate=True) if doc["isBase64Encoded"] else doc["body"].encode()
    hdrs = doc.get("headers") or {k: v[-1] for k, v in doc.get("multiValueHeaders", {}).items()}
    return doc["statusCode"], {k.lower(): v for k, v in hdrs.items()}, body


def compare(args):
    status, hdrs, body = cgi_split(args[1])
    if len(args) > 2 and args[2] == "direct":
        got = open(args[0], "rb").read()
        if status == 200 and got == body:
            return 0
        print("CGI status %d, %d bytes; the runtime's answer %d bytes: %r" % (status, len(body), len(got), got[:200]))
        return 1
    gs, gh, gb = http_answer(args[0])
    if gs == status and gb == body and gh.get("content-type") == hdrs.get("content-type"):
        return 0
    print("CGI %d %r %r\nLambda %d %r %r" % (status, hdrs.get("content-type"), body[:200], gs, gh.get("content-type"),
                                             gb[:200]))
    return 1


def expect(args):
    gs, _, gb = http_answer(args[0])
    if gs == int(args[1]) and args[2].encode() in gb:
        return 0
    print("status %d, body %r" % (gs, gb[:300]))
    return 1


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(rest)
    elif cmd == "event":
        event(rest)
    else:
        sys.exit({"compare": compare, "expect": expect}[cmd](rest))
