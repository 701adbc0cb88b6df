// Copy to public/appConfig.js (git-ignored) before `twilio flex:plugins:start`, which refuses to start without it:
// the configuration of the local Flex UI that loads this plugin on http://localhost:3000.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by Flex as the page's global `appConfig`
var appConfig = {
  pluginService: {
    enabled: true,
    url: '/plugins',
  },
  ytica: false,
  logLevel: 'info',
  showSupervisorDesktopView: true,
};
