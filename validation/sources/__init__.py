"""The input contract's rules per source, as Pandera schemas over the reader's prepared frame."""
