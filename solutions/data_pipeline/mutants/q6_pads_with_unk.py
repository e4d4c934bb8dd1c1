# mutant: the padding uses 1 (<unk>) instead of 0 (<pad>)
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    padded = torch.ones(len(batch), int(lengths.max()), dtype=torch.int64)
    for i, tokens in enumerate(sequences):
        padded[i, :len(tokens)] = tokens
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
