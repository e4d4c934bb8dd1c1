# mutant: every batch is padded to a fixed length of 16 instead of the longest item in the batch
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    padded = torch.zeros(len(batch), 16, dtype=torch.int64)
    for i, tokens in enumerate(sequences):
        padded[i, :len(tokens)] = tokens[:16]
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
