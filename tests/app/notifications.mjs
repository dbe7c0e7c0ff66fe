// A notification server on the test's session bus (org.freedesktop.Notifications, as a
// desktop's daemon offers it): it records every Notify call and can "click" a notification
// (the ActionInvoked signal with the action `default`, as the Desktop Notifications
// Specification reports a click on the notification itself).
import dbus from "dbus-next";

const { Interface } = dbus.interface;

class Notifications extends Interface {
  constructor() {
    super("org.freedesktop.Notifications");
    this.shown = [];
    this.next = 1;
  }
  GetCapabilities() {
    return ["actions", "body"];
  }
  GetServerInformation() {
    return ["tokensim-e2e", "tokensim", "1.0", "1.2"];
  }
  Notify(app, replaces, icon, summary, body, actions) {
    const id = replaces || this.next++;
    this.shown.push({ id, app, summary, body, actions });
    return id;
  }
  CloseNotification(id) {
    this.NotificationClosed(id, 3);
  }
  ActionInvoked(id, action) {
    return [id, action];
  }
  NotificationClosed(id, reason) {
    return [id, reason];
  }
}

Notifications.configureMembers({
  methods: {
    GetCapabilities: { inSignature: "", outSignature: "as" },
    GetServerInformation: { inSignature: "", outSignature: "ssss" },
    Notify: { inSignature: "susssasa{sv}i", outSignature: "u" },
    CloseNotification: { inSignature: "u", outSignature: "" },
  },
  signals: {
    ActionInvoked: { signature: "us" },
    NotificationClosed: { signature: "uu" },
  },
});

/** Starts the server; resolves to `{ shown, click(id), stop() }`. */
export async function startNotifications() {
  const bus = dbus.sessionBus();
  const server = new Notifications();
  bus.export("/org/freedesktop/Notifications", server);
  await bus.requestName("org.freedesktop.Notifications", 0);
  return {
    shown: server.shown,
    click: (id) => server.ActionInvoked(id, "default"),
    stop: () => bus.disconnect(),
  };
}
