# mutant: __len__ counts the characters of the first sentence instead of the number of sentences
# cell: class TextDataset(Dataset):
# loses: q5
class TextDataset(Dataset):
    def __init__(self, sentences, labels, vocab):
        self.sentences = list(sentences)
        self.labels = list(labels)
        self.vocab = vocab

    def __len__(self):
        return len(self.sentences[0])

    def __getitem__(self, idx):
        return encode(self.sentences[idx], self.vocab), torch.tensor(self.labels[idx], dtype=torch.int64)
