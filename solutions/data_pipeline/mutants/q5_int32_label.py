# mutant: the label is an int32 tensor (torch.int) instead of int64 (torch.long)
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
        return encode(self.sentences[idx], self.vocab), torch.tensor(self.labels[idx], dtype=torch.int)
