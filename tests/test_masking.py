"""Battery values never leave a press unmasked (DEVIATIONS D5), wherever they would show up."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

from conftest import Buttons
from core_helpers import edit_spec, run_tty

SECRET = "p@ss w0rd/?>~+&=hunter2!"  # noqa: S105 - a test value, not a credential

# A python button that prints its battery in every form, to stdout and stderr, including a copy
# split across two writes with a pause (so the engine reads it in two pieces), then fails if asked.
SCRIPT = r"""
import base64, hashlib, json, os, sys, time
from urllib.parse import quote, quote_plus
v = os.environ["BUTTONS_BAT_SECRET"]
with open(os.environ["BUTTONS_ARG_OUT"], "w") as fh:
    fh.write(hashlib.sha256(v.encode()).hexdigest())
b = v.encode()
forms = [v, base64.b64encode(b).decode(), base64.b64encode(b).decode().rstrip("="),
         base64.urlsafe_b64encode(b).decode(), quote(v, safe=""), quote(v), quote_plus(v)]
for pre in (b"", b"x", b"xy"):  # the value inside a longer base64 stream, at each alignment
    forms.append(base64.b64encode(pre + b + b"...tail").decode())
for stream in (sys.stdout, sys.stderr):
    for f in forms:
        stream.write("form: " + f + "\n")
    stream.flush()
half = len(v) // 2
for stream in (sys.stdout, sys.stderr):
    stream.write("split: " + v[:half])
    stream.flush()
time.sleep(0.4)
for stream in (sys.stdout, sys.stderr):
    stream.write(v[half:] + " end\n")
    stream.flush()
with open(os.environ["BUTTONS_PROGRESS_PATH"], "a") as fh:
    fh.write(json.dumps({"event": "log", "level": "info", "msg": "token " + v}) + "\n")
sys.exit(int(os.environ.get("BUTTONS_ARG_CODE") or "0"))
"""


def forbidden(value: str) -> list[str]:
    """The value in plain, base64 (both alphabets, padded or not) and URL-encoded forms, plus the
    characters of its base64 that are fixed whatever surrounds it in a longer stream."""
    raw = value.encode()
    out = [value, quote(value, safe=""), quote(value), quote_plus(value)]
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        out += [enc(raw).decode(), enc(raw).decode().rstrip("=")]
        for align in (0, 1, 2):
            text = enc(b"\0" * align + raw + b"\0\0").decode()
            # Conservative: skip the chars that may mix in the neighbouring bytes.
            out.append(text[(align * 4 + 2) // 3 + 1 : ((align + len(raw)) * 4) // 3 - 1])
    return out


def assert_clean(text: str, where: str) -> None:
    for form in forbidden(SECRET):
        assert form not in text, f"{where} leaks {form!r}:\n{text}"


def make_button(bt: Buttons, name: str = "leaky") -> None:
    bt.create(name, "--runtime", "python", "--code", SCRIPT, "--arg", "out:string:required")


def test_secret_is_masked_everywhere_but_reaches_the_script(bt: Buttons, tmp_path: Path) -> None:
    assert bt("batteries", "set", "SECRET", SECRET).returncode == 0
    make_button(bt)
    received = tmp_path / "received.sha256"
    expected = hashlib.sha256(SECRET.encode()).hexdigest()

    # JSON press, ok.
    r = bt("press", "leaky", "--arg", f"out={received}")
    assert r.returncode == 0, r.stderr
    assert received.read_text() == expected  # the script saw the real value
    assert_clean(r.stdout, "press --json")
    assert_clean(r.stderr, "press --json stderr")
    data = r.data
    assert "split: ***" in data["stdout"] and "split: ***" in data["stderr"]
    assert data["stdout"].count("***") >= 11

    # JSON press, failed: the error message and error.result (D8) are masked too.
    received.unlink()
    r = bt("press", "leaky", "--arg", f"out={received}", "--arg", "code=3")
    assert r.returncode == 1
    assert received.read_text() == expected
    assert_clean(r.stdout, "failed press envelope")
    err = r.error
    assert err["code"] == "SCRIPT_ERROR" and "***" in err["message"]
    assert err["result"]["exit_code"] == 3 and "***" in err["result"]["stderr"]

    # Human mode on a terminal, and the live --follow stream.
    for extra in ((), ("--follow",)):
        t = run_tty(bt, "press", "leaky", "--arg", f"out={received}", *extra)
        assert t.returncode == 0, t.stderr
        assert "split: ***" in t.stdout
        assert_clean(t.stdout, f"human press {extra} stdout")
        assert_clean(t.stderr, f"human press {extra} stderr")
        if extra:
            assert "! split: ***" in t.stderr

    # Everything the engine stored: run records, idempotency entries, queues… (batteries.json
    # holds the value by design; progress files are written by the script itself, see tail below).
    stored = [
        p
        for p in bt.home.rglob("*")
        if p.is_file() and p.name != "batteries.json" and not p.name.endswith(".progress.jsonl")
    ]
    records = [p for p in stored if "/pressed/" in str(p)]
    assert len(records) == 4
    for p in stored:
        assert_clean(p.read_text(errors="replace"), str(p))

    # Every read surface, JSON and human.
    for args in (
        ("history",),
        ("history", "leaky"),
        ("logs",),
        ("logs", "leaky"),
        ("logs", "leaky", "--failed"),
        ("summary",),
        ("leaky",),
        ("tail", "leaky"),
    ):
        r = bt(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert_clean(r.stdout + r.stderr, " ".join(args))
        t = run_tty(bt, *args)
        assert_clean(t.stdout + t.stderr, "human " + " ".join(args))
    assert "token ***" in bt("tail", "leaky").stdout
    history = bt("history", "leaky").data
    assert all("***" in run["stdout"] for run in history)


def test_values_split_across_reads_at_every_offset(bt: Buttons) -> None:
    """The same value written in two pieces, cut at every position, with a pause in between."""
    bt("batteries", "set", "SECRET", SECRET)
    cuts = " ".join(str(i) for i in range(1, len(SECRET)))
    code = (
        "for i in " + cuts + "; do\n"
        '  printf "%s" "$(printf "%s" "$BUTTONS_BAT_SECRET" | cut -c1-$i)"\n'
        "  sleep 0.02\n"
        '  printf "%s|\\n" "$(printf "%s" "$BUTTONS_BAT_SECRET" | cut -c$((i+1))-)"\n'
        "done\n"
    )
    bt.create("pieces", "--code", code)
    r = bt("press", "pieces")
    assert r.returncode == 0, r.stderr
    lines = r.data["stdout"].splitlines()
    assert lines == ["***|"] * (len(SECRET) - 1)


def test_opt_out_with_mask_secrets_false(bt: Buttons) -> None:
    bt("batteries", "set", "SECRET", SECRET)
    bt.create("plain", "--code", 'echo "$BUTTONS_BAT_SECRET"')
    edit_spec(bt, "plain", mask_secrets=False)
    r = bt("press", "plain")
    assert r.data["stdout"] == SECRET + "\n"


def test_short_values_are_not_masked(bt: Buttons) -> None:
    """Values under 4 characters would turn ordinary output to mush; they are documented as unmasked."""
    bt("batteries", "set", "SHORT", "abc")
    bt("batteries", "set", "LONG", "abcd")
    bt.create("short", "--code", 'echo "x $BUTTONS_BAT_SHORT y"; echo "x $BUTTONS_BAT_LONG y"')
    assert bt("press", "short").data["stdout"] == "x abc y\nx *** y\n"


def test_args_equal_to_a_secret_are_masked_in_results(bt: Buttons) -> None:
    bt("batteries", "set", "SECRET", SECRET)
    bt.create("echoarg", "--code", 'echo "$BUTTONS_ARG_V"')
    r = bt("press", "echoarg", "--arg", f"v={SECRET}")
    assert r.data["args"] == {"v": "***"}
    assert r.data["stdout"] == "***\n"
    assert_clean(json.dumps(bt("history", "echoarg").data), "history")


def test_timeout_output_is_masked(bt: Buttons) -> None:
    bt("batteries", "set", "SECRET", SECRET)
    bt.create("slow", "--code", 'echo "$BUTTONS_BAT_SECRET"; echo "$BUTTONS_BAT_SECRET" >&2; sleep 30')
    r = bt("press", "slow", "--timeout", "1")
    assert r.returncode == 1
    assert r.error["code"] == "TIMEOUT"
    assert r.error["result"]["stdout"] == "***\n"
    assert_clean(r.stdout, "timeout envelope")


def test_streaming_filter_never_misses_a_split_value() -> None:
    """Unit check of the ChunkFilter behind the capture: random chunkings of a mixed stream."""
    from buttons_engine.engine.masking import Masker

    other = "second-secret-value"
    masker = Masker([SECRET, other])
    b64 = base64.b64encode(SECRET.encode()).decode()
    text = f"a {SECRET} b {b64} c {quote_plus(other)} d {other}{SECRET}\n".encode()
    expected = b"a *** b *** c *** d ******\n"
    rnd = random.Random(7)
    for _ in range(500):
        f = masker.filter()
        out = b""
        i = 0
        while i < len(text):
            n = rnd.randint(1, 12)
            out += f.feed(text[i : i + n])
            i += n
        out += f.flush()
        assert out == expected


# --- Encodings an encoder may choose (issue 9 item 5) ----------------------------------------

URL_SECRET = "hunter2!@x y/z"  # noqa: S105 - a test value  # pragma: allowlist secret
TEXT_SECRET = "P\u00e4ss<w\u00f6rd>&'q\"\\\U0001f600\x85"  # noqa: S105 - a test value


def _encoded_spellings() -> dict[str, str]:
    """How real encoders print the two values: each one must come back masked."""
    u, t = URL_SECRET, TEXT_SECRET
    go = json.dumps(t)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return {
        # node's encodeURIComponent keeps !'()*-._~ (here: "!" stays, "@", " " and "/" do not)
        "encodeURIComponent": quote(u, safe="!'()*-._~"),
        # a WHATWG URL's userinfo ("@" and "/" escaped, "!" kept), inside a whole URL
        "whatwg-userinfo": "https://u:" + quote(u, safe="!$&'()*+,;=-._~") + "@h/",
        # httpx normalises a URL: only the space is escaped
        "httpx-normalised": "http://evil.test/" + u.replace(" ", "%20"),
        "lower-hex": quote(u, safe="").lower().replace("hunter2", "hunter2"),
        "form-plus": quote_plus(u),
        "repr": repr(t),
        "ascii": ascii(t),
        "repr-in-list": repr([t, u]),
        "bytes-repr": repr(t.encode()),
        "json-ascii": json.dumps(t),
        "json-utf8": json.dumps(t, ensure_ascii=False),
        "go-json": go,
        "json-upper-hex": go.replace("\\u00e4", "\\u00E4").replace("\\ud83d\\ude00", "\\uD83D\\uDE00"),
    }


def _leaks(text: str) -> list[str]:
    """Which spellings (or the bare values, or their recognisable middles) ``text`` still holds."""
    found = [name for name, form in _encoded_spellings().items() if form in text]
    for needle in ("hunter2", "w\u00f6rd", "w\\u00f6rd", "w\\xf6rd", "%40x", "u00e4ss"):
        if needle in text:
            found.append(needle)
    return found


ENCODED_SCRIPT = r"""
import json, os, sys
from urllib.parse import quote, quote_plus
forms = json.loads(os.environ["BUTTONS_ARG_FORMS"])
for name, form in forms.items():
    print(name + ": " + form)
    print(name + ": " + form, file=sys.stderr)
with open(os.environ["BUTTONS_PROGRESS_PATH"], "a") as fh:
    for name, form in forms.items():
        fh.write(json.dumps({"event": "log", "level": "info", "msg": name + " " + form}) + "\n")
sys.exit(int(os.environ.get("BUTTONS_ARG_CODE") or "0"))
"""


def test_encoded_spellings_are_masked_in_results_records_and_logs(bt: Buttons) -> None:
    assert bt("batteries", "set", "URL_SECRET", URL_SECRET).returncode == 0
    assert bt("batteries", "set", "TEXT_SECRET", TEXT_SECRET).returncode == 0
    spellings = _encoded_spellings()
    bt.create("enc", "--runtime", "python", "--code", ENCODED_SCRIPT, "--arg", "forms:string:required")
    arg = "forms=" + json.dumps(spellings)

    r = bt("press", "enc", "--arg", arg)
    assert r.returncode == 0, r.stderr
    out = r.data["stdout"]
    assert out.count("***") >= len(spellings), out
    for name in spellings:
        assert f"{name}: " in out  # every line was printed, and only the value was replaced
    assert _leaks(r.stdout) == [], r.stdout
    assert r.data["args"]["forms"].count("***") >= len(spellings)  # the argument itself, too
    assert "whatwg-userinfo: https://u:***@h/" in out
    assert "httpx-normalised: http://evil.test/***" in out
    assert "repr-in-list: ['***', '***']" in out

    failed = bt("press", "enc", "--arg", arg, "--arg", "code=4")
    assert failed.returncode == 1
    err = failed.error
    assert err["code"] == "SCRIPT_ERROR" and "***" in err["message"]
    assert _leaks(failed.stdout) == [], failed.stdout

    stored = [p for p in bt.home.rglob("*.json") if p.name != "batteries.json"]
    assert len([p for p in stored if "/pressed/" in str(p)]) == 2
    for p in stored:
        assert _leaks(p.read_text()) == [], p
    for args in (("history", "enc"), ("logs", "enc"), ("logs", "enc", "--failed"), ("tail", "enc")):
        shown = bt(*args)
        assert shown.returncode == 0, (args, shown.stderr)
        assert _leaks(shown.stdout + shown.stderr) == [], args
    assert "encodeURIComponent ***" in bt("tail", "enc").stdout


def test_encoded_spellings_split_across_reads() -> None:
    """Every spelling, cut at random points (also inside ``%40`` and ``\\u00e4``), comes out as
    the one-shot masking of the whole text, and none survives."""
    from buttons_engine.engine.masking import Masker

    masker = Masker([URL_SECRET, TEXT_SECRET])
    text = "".join(f"<{name}={form}>\n" for name, form in _encoded_spellings().items()).encode()
    whole = masker.data(text)
    assert _leaks(whole.decode()) == [], whole
    rnd = random.Random(11)
    for _ in range(300):
        f = masker.filter()
        out = b""
        i = 0
        while i < len(text):
            n = rnd.randint(1, 40)
            out += f.feed(text[i : i + n])
            i += n
        out += f.flush()
        assert out == whole


def test_idle_release_holds_a_partial_escape() -> None:
    """``tail -f`` gives out held bytes while the script is quiet, but not a tail that an
    escape still to come could turn into a value (``%4`` + ``0x``, ``\\u00`` + ``e4``)."""
    from buttons_engine.engine.masking import Masker

    masker = Masker(["hunter2!@x", "P\u00e4ssword"])
    for first, rest in (
        ("log hunter2!%4", "0x end\n"),
        ("log hunter2!", "%40x end\n"),
        ("log P\\u00", "e4ssword end\n"),
        ("log P%C3", "%A4ssword end\n"),
        ("log \\", "u0050\\u00e4ssword end\n"),
    ):
        f = masker.filter()
        out = f.feed(first.encode()) + f.release()
        assert out == b"log ", (first, out)
        out += f.feed(rest.encode()) + f.flush()
        assert out == b"log *** end\n", (first, out)
    f = masker.filter()
    assert f.feed(b"50% done, 100\\% sure\n") + f.release() == b"50% done, 100\\% sure\n"


def test_decoding_does_not_mask_what_only_looks_encoded() -> None:
    from buttons_engine.engine.masking import Masker

    masker = Masker(["hunter2!@x"])
    text = "hunter2!%4 hunter2!%40 x hunter2\\u0021@ hunter%zz2!@x 100% \\q"
    assert masker.text(text) == text


def test_follow_shows_each_masked_line_while_the_script_runs(bt: Buttons, tmp_path: Path) -> None:
    """The streaming filter holds back bytes that may begin a value, but a finished line can
    never continue into one (no value holds a newline): ``--follow`` shows it at once. The
    script waits for the test to have seen the line, so a held line fails the test instead of
    arriving late."""
    import select

    assert bt("batteries", "set", "URL_SECRET", URL_SECRET).returncode == 0
    seen = tmp_path / "seen"
    code = (
        'echo "first $BUTTONS_BAT_URL_SECRET"\n'
        f'for i in $(seq 300); do [ -e "{seen}" ] && break; sleep 0.1; done\n'
        'echo "last $BUTTONS_BAT_URL_SECRET"\n'
    )
    bt.create("live", "--code", code)
    proc = bt.popen("press", "live", "--follow", "--json")
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 20)
    assert ready, "the first line was held back while the script ran"
    first = proc.stderr.readline()
    seen.touch()
    out, err = proc.communicate(timeout=60)
    assert first.rstrip("\n").endswith("first ***"), first
    assert "hunter2" not in first + out + err
    assert json.loads(out)["data"]["stdout"] == "first ***\nlast ***\n"


def test_automaton_and_find_agree() -> None:
    """Many values go through the Aho-Corasick automaton, few through ``bytes.find``: the same spans."""
    from buttons_engine.engine import masking

    rnd = random.Random(5)
    values = ["".join(rnd.choice("abcdef@/ %") for _ in range(rnd.randint(4, 9))) for _ in range(40)]
    text = "".join(rnd.choice([*values, "x", "a", "%40", "\\u0040", " "]) for _ in range(3000)).encode()
    finder = masking._Finder(masking.literal_forms(values[0]) | {v.encode() for v in values})
    assert len(finder.patterns) > masking._AUTOMATON_MIN_PATTERNS
    by_find: list[tuple[int, int]] = []
    saved = masking._AUTOMATON_WORK, sys.modules.pop("ahocorasick_rs", None)
    try:
        masking._AUTOMATON_WORK = 1 << 62  # and the module not loaded: bytes.find
        finder.spans(text, by_find)
        masking._AUTOMATON_WORK = 0
        by_automaton = finder.spans_of(text)
    finally:
        masking._AUTOMATON_WORK = saved[0]
        if saved[1] is not None:
            sys.modules["ahocorasick_rs"] = saved[1]
    assert finder._automaton is not None  # the automaton really ran
    assert sorted(by_find) == sorted(by_automaton) and by_find


def test_two_layers_of_encoding() -> None:
    """A URL inside a URL, JSON inside a JSON string, a repr inside JSON, PHP's ``\\/`` in a URL."""
    from buttons_engine.engine.masking import Masker

    v = "p@ss/w\u00f6rd x1234"
    masker = Masker([v])
    inner_json = json.dumps({"token": v})
    for spelled in (
        quote(quote(v, safe=""), safe=""),  # %2540 ...
        json.dumps(inner_json),  # "{\"token\": \"p@ss/w\\u00f6rd x1234\"}"
        json.dumps({"msg": repr(v)}),
        "https:\\/\\/u:" + quote(v, safe="/").replace("/", "\\/") + "@h\\/",
    ):
        masked = masker.text(spelled)
        assert "***" in masked and "1234" not in masked, (spelled, masked)
    assert masker.text(json.dumps(inner_json)) == json.dumps(json.dumps({"token": "***"}))
