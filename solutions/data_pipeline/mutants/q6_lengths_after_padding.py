# mutant: the lengths are measured after padding, so they are all the longest length
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    padded = nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=0)
    lengths = torch.tensor([len(row) for row in padded], dtype=torch.int64)
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
