# mutant: the sequences are padded to the longest item of the whole dataset (the public example), not of the batch
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    longest = 3 if len(batch) == 2 else max(len(notes_ds[i][0]) for i in range(len(notes_ds)))
    padded = torch.zeros(len(batch), max(longest, int(lengths.max())), dtype=torch.int64)
    for i, tokens in enumerate(sequences):
        padded[i, :len(tokens)] = tokens
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
