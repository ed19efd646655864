from diffcheck.cli import main

main(prog_name="diffcheck")
