# mutant: a token is counted once per sentence (a set of tokens), not for every occurrence
# cell: def build_vocab(sentences, min_freq=1):
# loses: q4
def tokenize(sentence):
    return sentence.lower().split()


def build_vocab(sentences, min_freq=1):
    counts = Counter(token for sentence in sentences for token in set(tokenize(sentence)))
    vocab = {"<pad>": 0, "<unk>": 1}
    for token, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count >= min_freq:
            vocab[token] = len(vocab)
    return vocab


def encode(sentence, vocab):
    return torch.tensor([vocab.get(token, 1) for token in tokenize(sentence)], dtype=torch.int64)
