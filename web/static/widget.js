// Starts the rasa-webchat widget for the FAQ assistant.
// The Rasa URL comes from /config.js (set by web/server.js from FAQ_RASA_URL).
(function startWidget() {
  'use strict';

  var config = window.FAQ_WIDGET_CONFIG || {};
  var rasaUrl = config.rasaUrl || 'http://127.0.0.1:5005';

  if (!window.WebChat || typeof window.WebChat.default !== 'function') {
    console.error('rasa-webchat bundle not loaded');
    return;
  }

  window.WebChat.default({
    // socket.io on the Rasa server (server.channels.socketio.FaqSocketIOInput).
    socketUrl: rasaUrl,
    socketPath: '/socket.io/',
    // Sent once, when a new conversation opens: the assistant greets.
    initPayload: '/groet',
    // Sent with every message; the channel reads it with metadata_key: customData.
    customData: { language: 'nl', page: 'magnesium-en-vitamine-d' },
    // Session persistence: the session id and the conversation live in
    // localStorage; after a reload the widget sends session_request with it.
    params: { storage: 'local' },
    withRules: false,
    connectOn: 'mount',
    hideWhenNotConnected: false,
    title: 'Kennisbank-assistent',
    subtitle: 'Vragen over magnesium en vitamine D',
    inputTextFieldHint: 'Typ je vraag…',
    connectingText: 'Verbinden met de assistent…',
    showCloseButton: true,
    showFullScreenButton: false,
    displayUnreadCount: false,
    docViewer: false,
    // House colours (the widget's theme props).
    mainColor: '#0b6e4f',
    userBackgroundColor: '#0b6e4f',
    userTextColor: '#ffffff',
    // Short "typing" pause before each bot message (ms).
    customMessageDelay: function (message) {
      return Math.min(1200, Math.max(300, message.length * 5));
    },
  }, null);
})();
