# tests/e2e/cnn_compare.py MANIFEST - tests/e2e/cnn.sh's judge: one Python
# start for every answer the script collected, instead of one per answer.
#
# MANIFEST has one tab-separated line per request sent:
#     GROUP  CASE  HOW  FILE  LOGITS_TSV  ARGMAX_TXT
# HOW is "http STATUS_FILE" (FILE is the body curl saved, STATUS_FILE the
# status curl printed) or "cgi" (FILE is
# score.fcgi's whole CGI output: a Status line, headers, a blank line, the
# body).  An answer passes when its status is 200 and its numbers, in
# order, are torch's logits (LOGITS_TSV, one row per line) within 1e-4
# with the same argmax per row (ARGMAX_TXT).  The numbers are read from
# the JSON body whatever its layout: /score's list of {"0": v, ...},
# /invocations' {"predictions": ...}, V2's outputs[0].data.
#
# Prints one TAP line per GROUP ("ok - GROUP (N requests)"), and for a
# failing group which cases failed and why.  Exit status 0 either way:
# the TAP lines are the verdict.
import json
import sys

TOLERANCE = 1e-4


def numbers(node, out):
    if isinstance(node, bool):
        raise ValueError('a boolean among the logits')
    if isinstance(node, (int, float)):
        out.append(float(node))
    elif isinstance(node, list):
        for item in node:
            numbers(item, out)
    elif isinstance(node, dict):
        for item in node.values():
            numbers(item, out)
    else:
        raise ValueError('a %s among the logits' % type(node).__name__)
    return out


def logits_of(body):
    doc = json.loads(body)
    if isinstance(doc, dict) and 'outputs' in doc:
        doc = doc['outputs'][0]['data']
    elif isinstance(doc, dict) and 'predictions' in doc:
        doc = doc['predictions']
    return numbers(doc, [])


def split_cgi(raw):
    head, sep, body = raw.partition(b'\r\n\r\n')
    if not sep:
        return ('no header end', raw)
    first = head.split(b'\r\n', 1)[0].decode('latin-1')
    if not first.startswith('Status: '):
        return (first, body)
    return (first[8:].split(' ', 1)[0], body)


def read_rows(path):
    with open(path) as f:
        return [[float(v) for v in line.split('\t')] for line in f if line.strip()]


def judge(how, path, tsv, argmax_path):
    """None when the answer is torch's, else why not (one line)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if how == 'cgi':
        (status, body) = split_cgi(raw)
    else:
        with open(how.split(' ', 1)[1]) as f:
            (status, body) = (f.read().strip(), raw)
    if status != '200':
        return 'status %s: %s' % (status, body[:160].decode('utf-8', 'replace'))
    try:
        got = logits_of(body)
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return 'unreadable answer (%s): %s' % (e, body[:160].decode('utf-8', 'replace'))
    want = read_rows(tsv)
    width = len(want[0])
    if len(got) != len(want) * width:
        return '%d numbers, expected %d rows of %d' % (len(got), len(want), width)
    with open(argmax_path) as f:
        want_argmax = [int(line) for line in f if line.strip()]
    worst = (0.0, 0, 0)
    for (r, row) in enumerate(want):
        mine = got[r * width:(r + 1) * width]
        for (j, (a, b)) in enumerate(zip(mine, row)):
            if not abs(a - b) <= worst[0]:
                worst = (abs(a - b), r, j)
        if mine.index(max(mine)) != want_argmax[r]:
            return 'row %d: argmax %d, torch %d' % (r, mine.index(max(mine)), want_argmax[r])
    if not worst[0] <= TOLERANCE:
        return 'row %d logit %d differs by %.3g from torch' % (worst[1], worst[2], worst[0])
    return None


def main():
    groups = {}
    with open(sys.argv[1]) as f:
        for line in f:
            (group, case, how, path, tsv, argmax_path) = line.rstrip('\n').split('\t')
            groups.setdefault(group, []).append((case, judge(how, path, tsv, argmax_path)))
    for (group, results) in groups.items():
        failed = [(case, why) for (case, why) in results if why is not None]
        if not failed:
            print('ok - %s (%d requests)' % (group, len(results)))
            continue
        print('not ok - %s (%d of %d requests wrong)' % (group, len(failed), len(results)))
        for (case, why) in failed[:6]:
            print('#   %s: %s' % (case, why))
    return 0


if __name__ == '__main__':
    sys.exit(main())
