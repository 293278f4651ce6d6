from elpac.cli import main

main()
