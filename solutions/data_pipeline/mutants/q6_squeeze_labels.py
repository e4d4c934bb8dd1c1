# mutant: the labels are stacked as (B, 1) and squeezed without a dim, so a batch of one gives a 0-d tensor
# cell: def pad_collate(batch):
# loses: q6
def pad_collate(batch):
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=0)
    labels = torch.stack([label.view(1) for _, label in batch]).squeeze()
    return padded, lengths, labels
