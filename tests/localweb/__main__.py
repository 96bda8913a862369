from tests.localweb.server import main

main()
