from tap_orderspace.tap import main

main()
