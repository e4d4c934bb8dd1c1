# mutant: the label is returned as a plain int instead of an int64 tensor
# cell: class TextDataset(Dataset):
# loses: q5
class TextDataset(Dataset):
    def __init__(self, sentences, labels, vocab):
        self.sentences = list(sentences)
        self.labels = list(labels)
        self.vocab = vocab

    def __len__(self):
        return len(self.sentences)

    def __getitem__(self, idx):
        return encode(self.sentences[idx], self.vocab), self.labels[idx]
