"""The built-in demos: written dates → ISO dates (`dates.py`, `make demo`), spoken digits → words (`speech.py`)."""
