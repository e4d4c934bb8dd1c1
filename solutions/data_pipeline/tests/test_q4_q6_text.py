"""Q4-Q6: vocabulary, TextDataset and the padding collate_fn."""

from collections import Counter

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_equal

WORDS = ["pain", "chest", "tired", "fine", "walks", "daily", "sleeps", "well", "dizzy", "smokes",
         "night", "and", "no", "complaints", "breath", "short", "of", "heart"]


def sentences(rng, n, lower=False):
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 7))]
        if not lower:
            words = [w.capitalize() if rng.random() < 0.3 else w.upper() if rng.random() < 0.1 else w for w in words]
        out.append(("  " if rng.random() < 0.2 else "") + " ".join(words))
    return out


def ref_vocab(texts, min_freq):
    counts = Counter(t for s in texts for t in s.lower().split())
    vocab = {"<pad>": 0, "<unk>": 1}
    for token, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count >= min_freq:
            vocab[token] = len(vocab)
    return vocab


def ref_encode(sentence, vocab):
    return torch.tensor([vocab.get(t, 1) for t in sentence.lower().split()], dtype=torch.int64)


@probe
def vocab_run(ns, texts, min_freq, queries):
    v = ns.build_vocab(texts, min_freq=min_freq)
    def index(i):                            # a Python int or a numpy.int64 (never a bool or a float)
        return i.__index__() if hasattr(type(i), "__index__") and not isinstance(i, bool) else None
    return {"type": type(v).__name__,
            "vocab": {k: index(i) for k, i in v.items()} if isinstance(v, dict) else None,
            "tokens": [ns.tokenize(q) for q in queries],
            "encoded": [ns.encode(q, v) for q in queries]}


# one sentence of one word, the notebook's three sentences, tokens repeated inside a sentence, then drawn
VOCAB_CASES = (["Pain"], ["the cat sat", "The dog sat", "a cat"],
               ["pain and pain and PAIN", "chest  pain", "tired and dizzy", "dizzy"])


def draw_texts(rng):
    return sentences(rng, rng.choice([rng.randint(8, 15), rng.randint(60, 120)]))


@question("q4", points=2)
def test_build_vocab(student):
    for texts in student.cases(*VOCAB_CASES, draw=draw_texts):
        check_vocab(student, texts)


def check_vocab(student, texts):
    rng = student.rng
    for min_freq in (1, rng.randint(2, 3)):
        r = student.probe(vocab_run, texts=texts, min_freq=min_freq, queries=[])
        v, expected = r["vocab"], ref_vocab(texts, min_freq)
        expect(type(v) is dict, "build_vocab should return a dict from token to index")
        expect(v.get("<pad>") == 0 and v.get("<unk>") == 1, "the vocabulary should map <pad> to 0 and <unk> to 1")
        expect(set(v) == set(expected), "the vocabulary does not hold the right tokens (lower-case them, split on "
               "whitespace, and keep only those counted at least min_freq times)")
        expect(v == expected, "the vocabulary has the right tokens but not the right indices (decreasing count, "
               "ties in alphabetical order, starting at 2)")


@question("q4", points=1)
def test_encode(student):
    for texts in student.cases(*VOCAB_CASES, draw=draw_texts):
        check_encode(student, texts)


def check_encode(student, texts):
    rng = student.rng
    queries = sentences(rng, 4) + [texts[0], "Unseenword " + rng.choice(WORDS).upper() + " zzz", ""]
    r = student.probe(vocab_run, texts=texts, min_freq=2, queries=queries)
    expect(r["tokens"] == [q.lower().split() for q in queries], "tokenize should return sentence.lower().split()")
    vocab = ref_vocab(texts, 2)
    for q, got in zip(queries, r["encoded"]):
        tensors_equal(got, ref_encode(q, vocab), name="encode(sentence, vocab) (unknown tokens are 1)")


@probe
def text_dataset(ns, texts, labels, vocab, other_vocab):
    ds = ns.TextDataset(texts, labels, vocab)
    other = ns.TextDataset(texts[:2], labels[:2], other_vocab)
    k = min(2, len(texts))
    try:                                     # a Dataset subclass concatenates with +
        concat = (ds + other)[len(ds)]
        concat = list(concat) if isinstance(concat, tuple) else None
    except Exception:
        concat = None
    return {"len": len(ds), "concat": concat,
            "items": [list(ds[i]) if isinstance(ds[i], tuple) else None for i in range(len(texts))],
            "other": [list(other[i]) if isinstance(other[i], tuple) else None for i in range(k)]}


@question("q5", points=2)
def test_text_dataset(student):
    for n in student.cases(1, 3, draw=lambda rng: rng.choice([rng.randint(5, 9), rng.randint(80, 150)])):
        check_text_dataset(student, n)


def check_text_dataset(student, n):
    rng = student.rng
    texts = sentences(rng, n, lower=True)  # q5 should not depend on q4's lower-casing
    labels = [rng.randint(0, 2) for _ in texts]
    vocab = ref_vocab(texts, 1)
    other_vocab = ref_vocab(texts[:2], 1)
    r = student.probe(text_dataset, texts=texts, labels=labels, vocab=vocab, other_vocab=other_vocab)
    concat = r["concat"]
    expect(concat is not None and len(concat) == 2 and isinstance(concat[0], torch.Tensor)
           and concat[0].tolist() == ref_encode(texts[0], other_vocab).tolist(),
           "TextDataset should subclass torch.utils.data.Dataset (so that, for example, ds + other "
           "concatenates two datasets)")
    expect(r["len"] == len(texts), "len(TextDataset) should be the number of sentences")
    for i, item in enumerate(r["items"]):
        expect(item is not None and len(item) == 2, "dataset[idx] should return a tuple (tokens, label)")
        tensors_equal(item[0], ref_encode(texts[i], vocab), name=f"the tokens of dataset[{i}]")
        tensors_equal(item[1], torch.tensor(labels[i], dtype=torch.int64), name=f"the label of dataset[{i}]")
    expect(len(r["other"]) == min(2, len(texts)), "len(TextDataset) should be the number of sentences")
    for i, item in enumerate(r["other"]):
        expect(item is not None and torch.equal(item[0], ref_encode(texts[i], other_vocab)),
               "a TextDataset should encode with its own vocab (self.vocab), not a global one")


@probe
def collate(ns, seqs, labels):
    batch = [(s, torch.tensor(l)) for s, l in zip(seqs, labels)]
    out = ns.pad_collate(batch)
    loader = torch.utils.data.DataLoader(batch, batch_size=len(batch), collate_fn=ns.pad_collate)
    return {"out": list(out) if isinstance(out, tuple) else None, "type": type(out).__name__,
            "loader": list(next(iter(loader)))}


def draw_lengths(rng):
    b = rng.choice([rng.randint(3, 6), rng.randint(40, 70)])
    lens = [rng.randint(0, rng.choice([9, 30])) for _ in range(b)]
    lens[rng.randrange(b)] = rng.randint(2, 9)
    return lens


# lengths of the items: one item of one token, the notebook's (3, 1), an empty item, then drawn
LENGTH_CASES = ([1], [3, 1], [0, 4, 2])


@question("q6", points=2)
def test_pad_to_longest(student):
    for lens in student.cases(*LENGTH_CASES, draw=draw_lengths):
        check_padding(student, list(lens))


def check_padding(student, lens):
    rng, g = student.rng, student.generator
    b = len(lens)
    seqs = [torch.randint(2, 50, (n,), generator=g) for n in lens]
    labels = [rng.randint(0, 1) for _ in range(b)]
    r = student.probe(collate, seqs=seqs, labels=labels)
    expect(r["out"] is not None and len(r["out"]) == 3,
           f"pad_collate should return a tuple (padded, lengths, labels), not {r['type']}")
    padded, lengths, got_labels = r["out"]
    expected = torch.zeros(b, max(lens), dtype=torch.int64)
    for i, s in enumerate(seqs):
        expected[i, :len(s)] = s
    assert_tensor(padded, dtype=torch.int64, name="padded")
    expect(padded.dim() == 2 and padded.shape[0] == b,
           "padded should have shape (batch size, longest length): one row per item")
    expect(padded.shape[1] == max(lens), "padded should be exactly as long as the longest sequence in the "
           "batch (not a fixed length)")
    tensors_equal(padded, expected, name="padded (each row: the tokens, then 0 = <pad>)")
    tensors_equal(lengths, torch.tensor(lens), name="lengths (the lengths before padding)")
    tensors_equal(got_labels, torch.tensor(labels), name="labels")


@question("q6", points=1)
def test_collate_in_loader(student):
    for lens in student.cases(*LENGTH_CASES, draw=draw_lengths):
        rng, g = student.rng, student.generator
        seqs = [torch.randint(2, 50, (n,), generator=g) for n in lens]
        labels = [rng.randint(0, 1) for _ in lens]
        r = student.probe(collate, seqs=seqs, labels=labels)
        padded, lengths, got_labels = r["loader"]
        expect(tuple(padded.shape) == (len(lens), max(lens)),
               "in a DataLoader with collate_fn=pad_collate, a batch should be padded to its longest sequence")
        tensors_equal(lengths, torch.tensor(lens), name="lengths from the DataLoader")
        tensors_equal(got_labels, torch.tensor(labels), name="labels from the DataLoader")
