from routefarm.cli import main

main()
