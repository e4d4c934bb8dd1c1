# mutant: the tokens are numbered in order of first appearance, not by decreasing count
# cell: def build_vocab(sentences, min_freq=1):
# loses: q4
def tokenize(sentence):
    return sentence.lower().split()


def build_vocab(sentences, min_freq=1):
    vocab = {"<pad>": 0, "<unk>": 1}
    counts = Counter(token for sentence in sentences for token in tokenize(sentence))
    for token in counts:
        if counts[token] >= min_freq:
            vocab[token] = len(vocab)
    return vocab


def encode(sentence, vocab):
    return torch.tensor([vocab.get(token, 1) for token in tokenize(sentence)], dtype=torch.int64)
