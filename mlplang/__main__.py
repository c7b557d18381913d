from mlplang.cli import main

main()
