# mutant: pad_sequence without batch_first=True gives shape (longest length, batch size)
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    padded = nn.utils.rnn.pad_sequence(sequences, padding_value=0)
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
