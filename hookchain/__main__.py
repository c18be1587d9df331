from hookchain.cli import main

main()
