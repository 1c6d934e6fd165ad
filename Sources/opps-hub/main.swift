import OppsHubCommands

OppsHub.main()
