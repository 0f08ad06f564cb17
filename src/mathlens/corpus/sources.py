"""An offline stand-in for a web crawl, from what this machine can read: math text (benchmark
problems with their answers and worked solutions, sympy's and numpy's docstrings) and general
English (the machine's /usr/share/doc, Python's own library docstrings), each page given a
made-up URL whose domain and folders carry the meta-information a crawl would. Planted: exact
and near-duplicate copies, and pages quoting evaluation problems. A labelled held-out part is
written apart and never enters the pool or the seed data.

Written by hand because nothing else assembles such a corpus offline; the pipeline then runs on
it exactly as on a crawl (JSONL shards and a WARC file).
"""

from __future__ import annotations

import gzip
import html
import importlib
import inspect
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import MathlensError

MATH_MODULES = (
    "sympy.integrals", "sympy.solvers", "sympy.series", "sympy.ntheory", "sympy.polys", "sympy.matrices",
    "sympy.functions.combinatorial", "sympy.geometry", "sympy.sets", "sympy.stats",
    "numpy.linalg", "numpy.polynomial", "numpy.fft",
)
GENERAL_MODULES = (
    "email", "http.client", "http.server", "logging", "json", "argparse", "asyncio", "urllib.request",
    "xml.etree.ElementTree", "shutil", "subprocess", "tarfile", "zipfile", "sqlite3", "smtplib", "socket",
    "threading", "pathlib", "tkinter", "unittest", "venv", "zipapp", "mailbox", "imaplib", "ftplib",
)
CONTAMINATING = ("gsm8k", "math_test500")  # what the planted pages quote; decontaminate against these
NEEDED = ("college_math", "svamp", "asdiv", "mawps", "olympiadbench", *CONTAMINATING)  # the folders read


@dataclass(frozen=True)
class DemoCorpusConfig:
    seed: int = 0
    max_per_source: int = 400  # pages per source, at most
    heldout: float = 0.15  # share of labelled pages written apart, for the classifier's figures
    seed_share: float = 0.3  # share of the rest given as seed data (positives and negatives)
    near_duplicates: int = 60
    exact_duplicates: int = 20
    contaminated: int = 30
    shards: int = 4  # JSONL files of the pool
    warc_share: float = 0.2  # pool pages written as HTML into a WARC file instead


# each benchmark's raw JSONL fields: (question fields, joined; answer field; topic field)
FIELDS = {
    "college_math": (("question",), "answer", "data_topic"),
    "svamp": (("Body", "Question"), "Answer", None),
    "asdiv": (("body", "question"), "answer", None),
    "mawps": (("input",), "target", None),
    "gsm8k": (("question",), "answer", None),
    "math_test500": (("problem",), "answer", "subject"),
}


def read_problems(benchmarks: Path, name: str) -> list[dict]:
    """A benchmark folder's problems as ``question``, ``answer``, ``topic`` (the raw files, read
    here as corpus text: the corpus takes records, not the evaluation harness's loaders)."""
    questions, answer, topic = FIELDS[name]
    rows = [json.loads(line) for line in (benchmarks / name / "test.jsonl").open(encoding="utf-8") if line.strip()]
    number = lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)  # noqa: E731
    return [{"question": " ".join(str(r[q]).strip() for q in questions), "answer": number(r.get(answer, "")),
             "topic": str(r.get(topic) or name) if topic else name, "source": name} for r in rows]


def _page(url: str, text: str, label: str, source: str) -> dict:
    return {"url": url, "text": text.strip(), "label": label, "source": source}


def benchmark_pages(benchmarks: Path, rng: random.Random, cap: int) -> Iterator[dict]:
    """Exercises and word problems a few to a page, under the sites that would host them."""
    for name, site, per_page in (("college_math", "college-math.example", 4), ("svamp", "wordproblems.example", 3),
                                 ("asdiv", "wordproblems.example", 3), ("mawps", "wiki.example/math", 3)):
        problems = read_problems(benchmarks, name)
        rng.shuffle(problems)
        problems = problems[: cap * per_page]
        for i in range(0, len(problems), per_page):
            group = problems[i : i + per_page]
            topic = group[0]["topic"].split(".")[-1].replace(" ", "-").lower()
            text = "\n\n".join(f"Problem {j + 1}. {p['question']}\nAnswer: {p['answer']}" for j, p in enumerate(group))
            yield _page(f"https://{site}/{name}/{topic}/page-{i // per_page}", text, "math", name)
    rows = [json.loads(line) for line in (benchmarks / "olympiadbench" / "test.jsonl").open(encoding="utf-8")]
    for i, row in enumerate(rows[:cap]):
        solution = "\n".join(row.get("solution") or [])
        field = str(row.get("subfield") or "misc").lower().replace(" ", "-")
        yield _page(f"https://olympiad.example/{field}/problem-{i}", f"{row['question']}\n\nSolution.\n{solution}",
                    "math", "olympiadbench")


def docstring_pages(modules: tuple[str, ...], site: str, label: str, cap: int, min_chars: int = 300) -> Iterator[dict]:
    """Each documented function or class of the modules (and their submodules, one level down)."""
    seen: set[int] = set()
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception:  # a module this machine lacks (tkinter without Tk): skip it
            continue
        count = 0
        for attr, obj in sorted(vars(module).items()):
            doc = inspect.getdoc(obj) if (inspect.isfunction(obj) or inspect.isclass(obj)) else None
            if not doc or len(doc) < min_chars or id(obj) in seen or attr.startswith("_"):
                continue
            seen.add(id(obj))
            yield _page(f"https://{site}/{name.replace('.', '/')}/{attr}", f"{attr}\n\n{doc[:6000]}", label, name)
            count += 1
            if count >= cap:
                break


def usr_share_doc_pages(cap: int, root: Path = Path("/usr/share/doc")) -> Iterator[dict]:
    """README, copyright and changelog files of the installed packages (first 4,000 characters)."""
    count = 0
    for path in sorted(root.glob("*/*")):
        if not path.is_file() or count >= cap:
            continue
        try:
            raw = gzip.open(path).read(6000) if path.suffix == ".gz" else path.read_bytes()[:6000]
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError):
            continue
        if len(text) < 300:
            continue
        site = "wiki.example/software" if count % 5 == 0 else "packages.debian.example/doc"
        yield _page(f"https://{site}/{path.parent.name}/{path.name.replace('.gz', '')}", text[:4000], "general",
                    "usr-share-doc")
        count += 1


def contaminated_pages(benchmarks: Path, rng: random.Random, n: int) -> list[dict]:
    """Forum posts that quote an evaluation problem word for word."""
    problems = [p for name in CONTAMINATING for p in read_problems(benchmarks, name)]
    picked = rng.sample(problems, n)
    return [
        _page(f"https://homework-help.example/questions/{i}",
              f"Can anyone help me with this one? {p['question']}\nI tried it twice and got stuck. Thanks!", "math",
              f"contaminated:{p['source']}")
        for i, p in enumerate(picked)
    ]


def near_copy(text: str, rng: random.Random, share: float = 0.02) -> str:
    """The text with a few words swapped for others of the same text, and a mirror's footer."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * share))):
        words[i] = rng.choice(words)
    return " ".join(words) + "\n\nMirrored with permission."


def check_benchmarks(benchmarks: Path) -> None:
    """Before anything is written: the benchmark folders the demo's math pages come from."""
    missing = [f"{name}/test.jsonl" for name in NEEDED if not (benchmarks / name / "test.jsonl").is_file()]
    if missing:
        raise MathlensError(f"{benchmarks}: no {', '.join(missing)}; build-demo takes its math pages from these "
                            "benchmarks: pass --data-dir DIR holding them, or set MATHLENS_BENCHMARKS")


def build_demo_corpus(out: str | Path, benchmarks: str | Path, cfg: DemoCorpusConfig = DemoCorpusConfig()) -> dict:
    """Writes pool/*.jsonl.gz, pool/crawl.warc.gz, seed/{positives,negatives}.jsonl, heldout.jsonl,
    truth.json (every pool page's label and what was planted) and decontaminate/*.jsonl (the
    problems the planted pages quote, which the demo run decontaminates against); returns the counts."""
    rng = random.Random(cfg.seed)
    out, benchmarks = Path(out), Path(benchmarks)
    check_benchmarks(benchmarks)
    cap = cfg.max_per_source
    pages = [
        *benchmark_pages(benchmarks, rng, cap // 2),
        *docstring_pages(MATH_MODULES, "docs.scipy-stack.example", "math", cap // 4),
        *docstring_pages(GENERAL_MODULES, "docs.python.example/library", "general", cap // 8),
        *usr_share_doc_pages(cap * 3),
    ]
    rng.shuffle(pages)
    cut = int(len(pages) * cfg.heldout)
    heldout, rest = pages[:cut], pages[cut:]
    n_seed = int(len(rest) * cfg.seed_share)
    seed, pool = rest[:n_seed], rest[n_seed:]
    long = [p for p in pool if len(p["text"].split()) >= 120]
    planted = []
    for i, page in enumerate(rng.sample(long, cfg.near_duplicates + cfg.exact_duplicates)):
        exact = i < cfg.exact_duplicates
        text = page["text"] if exact else near_copy(page["text"], rng)
        planted.append({**page, "url": page["url"].replace("https://", "https://mirror.example/"), "text": text,
                        "copy_of": page["url"], "planted": "exact" if exact else "near"})
    pool += planted + contaminated_pages(benchmarks, rng, cfg.contaminated)
    rng.shuffle(pool)
    for i, page in enumerate(pool):
        page["id"] = f"doc-{i:05d}"
    warc_n = int(len(pool) * cfg.warc_share)
    write_warc(out / "pool" / "crawl.warc.gz", pool[:warc_n])
    shards = [pool[warc_n:][i :: cfg.shards] for i in range(cfg.shards)]
    for i, shard in enumerate(shards):
        write_pages(out / "pool" / f"part-{i:02d}.jsonl.gz", shard, labelled=False)
    write_pages(out / "seed" / "positives.jsonl", [p for p in seed if p["label"] == "math"])
    write_pages(out / "seed" / "negatives.jsonl", [p for p in seed if p["label"] == "general"])
    write_pages(out / "heldout.jsonl", heldout)
    truth = {p["url"]: {k: p.get(k) for k in ("label", "source", "planted", "copy_of")} for p in pool}
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    (out / "decontaminate").mkdir(parents=True, exist_ok=True)
    for name in CONTAMINATING:
        rows = [{"question": p["question"], "answer": p["answer"]} for p in read_problems(benchmarks, name)]
        (out / "decontaminate" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    counts = {"pool": len(pool), "warc": warc_n, "seed_positives": sum(p["label"] == "math" for p in seed),
              "seed_negatives": sum(p["label"] == "general" for p in seed), "heldout": len(heldout),
              "planted_near": cfg.near_duplicates, "planted_exact": cfg.exact_duplicates,
              "contaminated": cfg.contaminated, "pool_math": sum(p["label"] == "math" for p in pool)}
    (out / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    return counts


def write_pages(path: Path, rows: list[dict], labelled: bool = True) -> None:
    """Rows as datatrove reads them; pool pages carry their URL only (the truth is apart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        for row in rows:
            meta = {"url": row["url"], **({"label": row["label"], "source": row["source"]} if labelled else {})}
            f.write(json.dumps({"id": row.get("id", row["url"]), "text": row["text"], "metadata": meta}) + "\n")


def as_html(page: dict) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in page["text"].split("\n\n") if p.strip())
    title = html.escape(page["text"].split("\n", 1)[0][:80])
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> | <a href='/about'>About</a>"
            f"</nav><article>{paragraphs}</article><footer>© example</footer></body></html>")


def write_warc(path: Path, pages: list[dict]) -> None:
    """Pages as WARC response records (HTML), as a crawler would store them."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for page in pages:
            body = as_html(page).encode("utf-8")
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(page["url"], "response", payload=io.BytesIO(body), http_headers=headers,
                                               warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"})
            writer.write_record(record)
