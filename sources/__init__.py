"""Readers for the partners' deliveries, exactly as the input contract describes them."""
