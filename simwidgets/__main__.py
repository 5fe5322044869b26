"""``python -m simwidgets`` runs the command line."""

if __name__ == "__main__":
    # imported here: a spawned helper process (a tokenizer) imports this module again under
    # another name, and needs none of the command line
    from .cli import main

    raise SystemExit(main())
