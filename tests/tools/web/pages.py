"""Realistic test pages generated on the fly: article pages with navigation, ads, scripts and footers."""

from __future__ import annotations

import random

WORDS = (
    "the a of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her all she there would their we him been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do first any my now such like our over man "
    "me even most made after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see men work long get here "
    "between both life being under never day same another know while last might us great old year off come since "
    "against go came right used take three river harbour engine market theory village council railway garden"
).split()

SCRIPT_MARKER = "SCRIPT_SECRET_TOKEN"
STYLE_MARKER = "STYLE_SECRET_TOKEN"


def sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(8, 22))]
    return " ".join(words).capitalize() + "."


def article_page(target_bytes: int = 50_000, seed: int = 0, title: str = "The History of the River Harbour") -> str:
    """An HTML page shaped like a news/blog article: boilerplate around a main text of about the given size."""
    rng = random.Random(seed)
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(25))
    head = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>body{{font-family:sans-serif}} .{STYLE_MARKER}{{color:red}}</style>"
        f"<script>window.dataLayer=[];var {SCRIPT_MARKER}='x';function track(){{return 1}}</script></head><body>"
        f"<header><div class='logo'>Daily Harbour</div><nav><ul>{nav}</ul></nav></header>"
        "<div class='cookie-banner'>We use cookies to improve your experience. <button>Accept</button></div>"
        "<aside class='sidebar'><h3>Related</h3><ul>"
        + "".join(f'<li><a href="/related/{i}">{sentence(rng, 6)}</a></li>' for i in range(10))
        + "</ul></aside>"
    )
    footer = (
        "<footer><p>© 2026 Daily Harbour. All rights reserved.</p><ul>"
        + "".join(f'<li><a href="/legal/{i}">Legal {i}</a></li>' for i in range(15))
        + f"</ul></footer><script>track(); /* {SCRIPT_MARKER} */</script></body></html>"
    )
    body = [f"<main><article><h1>{title}</h1><p class='byline'>By Ada Writer, 3 March 2026</p>"]
    size = len(head) + len(footer) + 200
    section = 0
    while size < target_bytes:
        if rng.random() < 0.15:
            section += 1
            block = f"<h2>Part {section}: {sentence(rng, 4)[:-1]}</h2>"
        elif rng.random() < 0.05:
            rows = "".join(f"<tr><td>{rng.choice(WORDS)}</td><td>{rng.randint(1, 999)}</td></tr>" for _ in range(6))
            block = f"<table><tr><th>Name</th><th>Value</th></tr>{rows}</table>"
        elif rng.random() < 0.05:
            block = "<ul>" + "".join(f"<li>{sentence(rng, 7)}</li>" for _ in range(5)) + "</ul>"
        else:
            words = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
            link = f' See <a href="https://example.org/ref/{rng.randint(1, 10**6)}">the archive</a>.'
            block = f"<p>{words}{link}</p>"
        body.append(block)
        size += len(block)
    body.append("</article></main>")
    return head + "".join(body) + footer


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` in Helvetica."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
