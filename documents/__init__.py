"""Documents made from the store: Student Score Reports (HTML and PDF) in six languages."""
