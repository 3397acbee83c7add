from routefarm.cli.main import main

main()
