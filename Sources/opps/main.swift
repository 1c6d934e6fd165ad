import OppsCommands

Opps.main()
