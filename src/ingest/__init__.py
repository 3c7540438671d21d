"""Reading input files into Documents (one reader per format), chunking and PII redaction."""
