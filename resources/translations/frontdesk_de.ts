<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE" sourcelanguage="en_US">
    <context>
        <name />
        <message>
            <source>Visitor</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Automatic message</source>
            <translation>Automatische Nachricht</translation>
        </message>
        <message>
            <source>Bot %1</source>
            <translation>Bot %1</translation>
        </message>
        <message>
            <source>System</source>
            <translation>System</translation>
        </message>
        <message>
            <source>read</source>
            <translation>gelesen</translation>
        </message>
        <message>
            <source>delivered</source>
            <translation>zugestellt</translation>
        </message>
        <message>
            <source>sent</source>
            <translation>gesendet</translation>
        </message>
    </context>
    <context>
        <name>AgentSession</name>
        <message>
            <source>Your status</source>
            <translation>Ihr Status</translation>
        </message>
        <message>
            <source>Online</source>
            <translation>Online</translation>
        </message>
        <message>
            <source>Away</source>
            <translation>Abwesend</translation>
        </message>
        <message>
            <source>Away (idle)</source>
            <translation>Abwesend (inaktiv)</translation>
        </message>
        <message>
            <source>Colleagues see this; chats and automatic messages follow it.</source>
            <translation>Kollegen sehen ihn; Chats und automatische Nachrichten richten sich danach.</translation>
        </message>
        <message>
            <source>This server does not share agent status.</source>
            <translation>Dieser Server teilt den Status der Mitarbeiter nicht.</translation>
        </message>
        <message>
            <source>&amp;Chat</source>
            <translation>&amp;Chat</translation>
        </message>
        <message>
            <source>&amp;Take over</source>
            <translation>Ü&amp;bernehmen</translation>
        </message>
        <message>
            <source>T&amp;ransfer…</source>
            <translation>&amp;Weitergeben…</translation>
        </message>
        <message>
            <source>&amp;Notes…</source>
            <translation>&amp;Notizen…</translation>
        </message>
        <message>
            <source>&amp;Canned responses…</source>
            <translation>&amp;Textbausteine…</translation>
        </message>
        <message>
            <source>This server does not have the team features.</source>
            <translation>Dieser Server hat die Team-Funktionen nicht.</translation>
        </message>
        <message>
            <source>Take over the chat?</source>
            <translation>Chat übernehmen?</translation>
        </message>
        <message>
            <source>%1 is chatting with this visitor. Take over?</source>
            <translation>%1 chattet mit diesem Besucher. Übernehmen?</translation>
        </message>
        <message>
            <source>Opening the conversation with %1…</source>
            <translation>Konversation mit %1 wird geöffnet…</translation>
        </message>
        <message>
            <source>a visitor</source>
            <translation>einem Besucher</translation>
        </message>
        <message>
            <source>%1 took over your chat with %2</source>
            <translation>%1 hat Ihren Chat mit %2 übernommen</translation>
        </message>
    </context>
    <context>
        <name>BotEditor</name>
        <message>
            <source>Bots</source>
            <translation>Bots</translation>
        </message>
        <message>
            <source>&amp;New</source>
            <translation>&amp;Neu</translation>
        </message>
        <message>
            <source>&amp;Delete</source>
            <translation>&amp;Löschen</translation>
        </message>
        <message>
            <source>&amp;Import…</source>
            <translation>&amp;Importieren…</translation>
        </message>
        <message>
            <source>E&amp;xport…</source>
            <translation>E&amp;xportieren…</translation>
        </message>
        <message>
            <source>Enabled</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>Run again each time the trigger fires</source>
            <translation>Jedes Mal erneut starten, wenn der Auslöser eintritt</translation>
        </message>
        <message>
            <source>Visitor opens the chat and nobody is online</source>
            <translation>Besucher öffnet den Chat und niemand ist online</translation>
        </message>
        <message>
            <source>Visitor's first message</source>
            <translation>Erste Nachricht des Besuchers</translation>
        </message>
        <message>
            <source>Conditions of automatic messages</source>
            <translation>Bedingungen automatischer Nachrichten</translation>
        </message>
        <message>
            <source>time_on_page_at_least=30; url_contains=/pricing</source>
            <translation>time_on_page_at_least=30; url_contains=/preise</translation>
        </message>
        <message>
            <source>Steps</source>
            <translation>Schritte</translation>
        </message>
        <message>
            <source>&amp;Add step</source>
            <translation>Schritt &amp;hinzufügen</translation>
        </message>
        <message>
            <source>&amp;Remove step</source>
            <translation>Schritt &amp;entfernen</translation>
        </message>
        <message>
            <source>A&amp;pply step</source>
            <translation>Schritt ü&amp;bernehmen</translation>
        </message>
        <message>
            <source>Problems</source>
            <translation>Probleme</translation>
        </message>
        <message>
            <source>&amp;Check</source>
            <translation>&amp;Prüfen</translation>
        </message>
        <message>
            <source>&amp;Save</source>
            <translation>&amp;Speichern</translation>
        </message>
        <message>
            <source>&amp;Name:</source>
            <translation>&amp;Name:</translation>
        </message>
        <message>
            <source>&amp;Trigger:</source>
            <translation>&amp;Auslöser:</translation>
        </message>
        <message>
            <source>C&amp;onditions:</source>
            <translation>Be&amp;dingungen:</translation>
        </message>
        <message>
            <source>S&amp;tart step:</source>
            <translation>S&amp;tartschritt:</translation>
        </message>
        <message>
            <source>Something went wrong; see the log.</source>
            <translation>Etwas ist schiefgegangen; siehe Protokoll.</translation>
        </message>
        <message>
            <source> (off)</source>
            <translation> (aus)</translation>
        </message>
        <message>
            <source>Fix the step first.</source>
            <translation>Korrigieren Sie zuerst den Schritt.</translation>
        </message>
        <message>
            <source>No problems: the bot can be saved.</source>
            <translation>Keine Probleme: Der Bot kann gespeichert werden.</translation>
        </message>
        <message>
            <source>Step %1: </source>
            <translation>Schritt %1: </translation>
        </message>
        <message numerus="yes">
            <source>%n problem(s) to fix.</source>
            <translation>
                <numerusform>%n Problem zu beheben.</numerusform>
                <numerusform>%n Probleme zu beheben.</numerusform>
            </translation>
        </message>
        <message>
            <source>Saved.</source>
            <translation>Gespeichert.</translation>
        </message>
        <message>
            <source>Deleted.</source>
            <translation>Gelöscht.</translation>
        </message>
        <message>
            <source>Bot file</source>
            <translation>Bot-Datei</translation>
        </message>
        <message>
            <source>Bot files (*.json)</source>
            <translation>Bot-Dateien (*.json)</translation>
        </message>
        <message>
            <source>Cannot read %1: %2</source>
            <translation>%1 kann nicht gelesen werden: %2</translation>
        </message>
        <message>
            <source>Imported %1.</source>
            <translation>%1 importiert.</translation>
        </message>
        <message>
            <source>Cannot write %1: %2</source>
            <translation>%1 kann nicht geschrieben werden: %2</translation>
        </message>
        <message>
            <source>Exported to %1.</source>
            <translation>Nach %1 exportiert.</translation>
        </message>
    </context>
    <context>
        <name>CannedDialog</name>
        <message>
            <source>Canned responses</source>
            <translation>Textbausteine</translation>
        </message>
        <message>
            <source>Shortcut</source>
            <translation>Kürzel</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>Sprache</translation>
        </message>
        <message>
            <source>any (or e.g. de, en)</source>
            <translation>jede (oder z. B. de, en)</translation>
        </message>
        <message>
            <source>Text</source>
            <translation>Text</translation>
        </message>
        <message>
            <source>{visitor_name} and {agent_name} are filled in when inserted</source>
            <translation>{visitor_name} und {agent_name} werden beim Einfügen ersetzt</translation>
        </message>
        <message>
            <source>&amp;New</source>
            <translation>&amp;Neu</translation>
        </message>
        <message>
            <source>&amp;Save</source>
            <translation>&amp;Speichern</translation>
        </message>
        <message>
            <source>&amp;Delete</source>
            <translation>&amp;Löschen</translation>
        </message>
        <message>
            <source>Sh&amp;ortcut: /</source>
            <translation>&amp;Kürzel: /</translation>
        </message>
        <message>
            <source>&amp;Language:</source>
            <translation>&amp;Sprache:</translation>
        </message>
        <message>
            <source>&amp;Text:</source>
            <translation>&amp;Text:</translation>
        </message>
        <message>
            <source>A canned response needs a shortcut and a text.</source>
            <translation>Ein Textbaustein braucht ein Kürzel und einen Text.</translation>
        </message>
        <message>
            <source>A shortcut has letters, digits, - and _ only.</source>
            <translation>Ein Kürzel besteht nur aus Buchstaben, Ziffern, - und _.</translation>
        </message>
    </context>
    <context>
        <name>CannedPicker</name>
        <message>
            <source>Canned responses</source>
            <translation>Textbausteine</translation>
        </message>
        <message>
            <source>No canned response matches /%1</source>
            <translation>Kein Textbaustein passt zu /%1</translation>
        </message>
    </context>
    <context>
        <name>ChatAlerts</name>
        <message>
            <source>a visitor</source>
            <translation>einem Besucher</translation>
        </message>
        <message>
            <source>%1 handed you the chat with %2</source>
            <translation>%1 hat Ihnen den Chat mit %2 übergeben</translation>
        </message>
        <message>
            <source>A visitor</source>
            <translation>Ein Besucher</translation>
        </message>
        <message>
            <source>%1 is still waiting (%2)</source>
            <translation>%1 wartet noch (%2)</translation>
        </message>
        <message>
            <source>Message from %1</source>
            <translation>Nachricht von %1</translation>
        </message>
        <message>
            <source>wants to chat</source>
            <translation>möchte chatten</translation>
        </message>
        <message>
            <source>Open</source>
            <translation>Öffnen</translation>
        </message>
        <message>
            <source>Take</source>
            <translation>Annehmen</translation>
        </message>
    </context>
    <context>
        <name>ChatsPanel</name>
        <message>
            <source>Chats</source>
            <translation>Chats</translation>
        </message>
        <message>
            <source>Who else is on this visitor</source>
            <translation>Wer sonst bei diesem Besucher ist</translation>
        </message>
        <message>
            <source>Go to chats</source>
            <translation>Zu den Chats</translation>
        </message>
        <message>
            <source>&amp;Mine (%1)</source>
            <translation>&amp;Meine (%1)</translation>
        </message>
        <message>
            <source>&amp;Unassigned (%1)</source>
            <translation>&amp;Offen (%1)</translation>
        </message>
        <message>
            <source>&amp;All open (%1)</source>
            <translation>&amp;Alle (%1)</translation>
        </message>
        <message>
            <source>waiting %1</source>
            <translation>wartet %1</translation>
        </message>
        <message numerus="yes">
            <source>%n unread</source>
            <translation>
                <numerusform>%n ungelesen</numerusform>
                <numerusform>%n ungelesen</numerusform>
            </translation>
        </message>
        <message>
            <source>No chats are assigned to you.</source>
            <translation>Ihnen ist kein Chat zugewiesen.</translation>
        </message>
        <message>
            <source>No chat is waiting for an agent.</source>
            <translation>Kein Chat wartet auf einen Mitarbeiter.</translation>
        </message>
        <message>
            <source>No open chats.</source>
            <translation>Keine offenen Chats.</translation>
        </message>
        <message>
            <source>%1 is chatting</source>
            <translation>%1 chattet</translation>
        </message>
        <message>
            <source>%1 is typing</source>
            <translation>%1 schreibt</translation>
        </message>
        <message>
            <source>%1 is viewing</source>
            <translation>%1 sieht zu</translation>
        </message>
    </context>
    <context>
        <name>ConversationDialog</name>
        <message>
            <source>Conversation history</source>
            <translation>Gesprächsverlauf</translation>
        </message>
        <message>
            <source>Typing indicator</source>
            <translation>Tippanzeige</translation>
        </message>
        <message>
            <source>Message</source>
            <translation>Nachricht</translation>
        </message>
        <message>
            <source>Write a message; Enter sends, Shift+Enter starts a new line</source>
            <translation>Nachricht schreiben; Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile</translation>
        </message>
        <message>
            <source>&amp;Send</source>
            <translation>&amp;Senden</translation>
        </message>
        <message>
            <source>&amp;End conversation</source>
            <translation>Konversation &amp;beenden</translation>
        </message>
        <message>
            <source>Close the chat for the visitor too; the history stays</source>
            <translation>Beendet den Chat auch für den Besucher; der Verlauf bleibt erhalten</translation>
        </message>
        <message>
            <source>&amp;Pop out</source>
            <translation>Ab&amp;docken</translation>
        </message>
        <message>
            <source>Show this conversation in a window of its own</source>
            <translation>Diese Konversation in einem eigenen Fenster zeigen</translation>
        </message>
        <message>
            <source>Back to a &amp;tab</source>
            <translation>Zurück in einen &amp;Tab</translation>
        </message>
        <message>
            <source>Show this conversation as a tab of the main window</source>
            <translation>Diese Konversation als Tab im Hauptfenster zeigen</translation>
        </message>
        <message>
            <source>Conversation with %1</source>
            <translation>Konversation mit %1</translation>
        </message>
        <message numerus="yes">
            <source>%n unread message(s)</source>
            <translation>
                <numerusform>%n ungelesene Nachricht</numerusform>
                <numerusform>%n ungelesene Nachrichten</numerusform>
            </translation>
        </message>
        <message>
            <source>no longer listed</source>
            <translation>nicht mehr in der Liste</translation>
        </message>
        <message>
            <source>online</source>
            <translation>online</translation>
        </message>
        <message>
            <source>left the website</source>
            <translation>hat die Website verlassen</translation>
        </message>
        <message>
            <source>sending…</source>
            <translation>wird gesendet …</translation>
        </message>
        <message>
            <source>Another agent</source>
            <translation>Ein anderer Agent</translation>
        </message>
        <message>
            <source>%1 is typing…</source>
            <translation>%1 schreibt …</translation>
        </message>
        <message>
            <source>The visitor</source>
            <translation>Der Besucher</translation>
        </message>
        <message>
            <source>The message is %1 characters long; the limit is %2. Shorten it or send it in parts.</source>
            <translation>Die Nachricht ist %1 Zeichen lang; erlaubt sind %2. Kürzen Sie sie oder senden Sie sie in Teilen.</translation>
        </message>
    </context>
    <context>
        <name>DetailPane</name>
        <message>
            <source>Visitor details</source>
            <translation>Besucherdetails</translation>
        </message>
        <message>
            <source>Visit</source>
            <translation>Besuch</translation>
        </message>
        <message>
            <source>Device</source>
            <translation>Gerät</translation>
        </message>
        <message>
            <source>Location</source>
            <translation>Standort</translation>
        </message>
        <message>
            <source>Pages</source>
            <translation>Seiten</translation>
        </message>
        <message>
            <source>Contact</source>
            <translation>Kontakt</translation>
        </message>
        <message>
            <source>Recent messages</source>
            <translation>Letzte Nachrichten</translation>
        </message>
        <message>
            <source>Page</source>
            <translation>Seite</translation>
        </message>
        <message>
            <source>Time on page</source>
            <translation>Dauer</translation>
        </message>
        <message>
            <source>At</source>
            <translation>Um</translation>
        </message>
        <message>
            <source>Page trail</source>
            <translation>Besuchte Seiten</translation>
        </message>
        <message>
            <source>Chat history</source>
            <translation>Chatverlauf</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>Name</translation>
        </message>
        <message>
            <source>E-mail</source>
            <translation>E-Mail</translation>
        </message>
        <message>
            <source>Phone</source>
            <translation>Telefon</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>Kunde</translation>
        </message>
        <message>
            <source>Visitor id</source>
            <translation>Besucher-ID</translation>
        </message>
        <message>
            <source>talking now</source>
            <translation>spricht gerade</translation>
        </message>
        <message>
            <source>handed over to the team</source>
            <translation>an das Team übergeben</translation>
        </message>
        <message>
            <source>closed the chat</source>
            <translation>hat den Chat beendet</translation>
        </message>
        <message>
            <source>stopped by an agent</source>
            <translation>von einem Agenten gestoppt</translation>
        </message>
        <message>
            <source>Bot</source>
            <translation>Bot</translation>
        </message>
        <message>
            <source>%1 (%2)</source>
            <translation>%1 (%2)</translation>
        </message>
        <message>
            <source>Visits</source>
            <translation>Besuche</translation>
        </message>
        <message>
            <source>Time on site</source>
            <translation>Verweildauer</translation>
        </message>
        <message>
            <source>First seen</source>
            <translation>Zuerst gesehen</translation>
        </message>
        <message>
            <source>Last activity</source>
            <translation>Letzte Aktivität</translation>
        </message>
        <message>
            <source>Referrer</source>
            <translation>Herkunft</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>Status</translation>
        </message>
        <message>
            <source>Consent</source>
            <translation>Einwilligung</translation>
        </message>
        <message>
            <source>Browser</source>
            <translation>Browser</translation>
        </message>
        <message>
            <source>System</source>
            <translation>System</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>Sprache</translation>
        </message>
        <message>
            <source>Place</source>
            <translation>Ort</translation>
        </message>
        <message>
            <source>Time zone</source>
            <translation>Zeitzone</translation>
        </message>
        <message>
            <source>unknown</source>
            <translation>unbekannt</translation>
        </message>
        <message>
            <source>yes</source>
            <translation>ja</translation>
        </message>
        <message>
            <source>no</source>
            <translation>nein</translation>
        </message>
        <message>
            <source>direct</source>
            <translation>direkt</translation>
        </message>
        <message>
            <source>online</source>
            <translation>online</translation>
        </message>
        <message>
            <source>left</source>
            <translation>gegangen</translation>
        </message>
        <message>
            <source>Session only: no consent to be remembered; forgotten when they leave</source>
            <translation>Nur diese Sitzung: keine Einwilligung zum Wiedererkennen; wird beim Verlassen vergessen</translation>
        </message>
        <message>
            <source>No messages yet.</source>
            <translation>Noch keine Nachrichten.</translation>
        </message>
    </context>
    <context>
        <name>EmptyState</name>
        <message>
            <source>No visitor selected</source>
            <translation>Kein Besucher ausgewählt</translation>
        </message>
        <message>
            <source>Pick someone in the list to see who they are, which pages they read and what they wrote. Press Enter to open a conversation.</source>
            <translation>Wählen Sie jemanden in der Liste aus, um zu sehen, wer es ist, welche Seiten er liest und was er geschrieben hat. Mit der Eingabetaste öffnen Sie eine Konversation.</translation>
        </message>
    </context>
    <context>
        <name>FilterBar</name>
        <message>
            <source>All</source>
            <translation>Alles</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>In chat</source>
            <translation>Im Chat</translation>
        </message>
        <message>
            <source>Customers</source>
            <translation>Kunden</translation>
        </message>
        <message>
            <source>Auto-messaged</source>
            <translation>Automatisch benachrichtigt</translation>
        </message>
        <message>
            <source>Blocked</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>With a bot</source>
            <translation>Mit Bot</translation>
        </message>
        <message>
            <source>Every visitor</source>
            <translation>Alle Besucher</translation>
        </message>
        <message>
            <source>Visitors with some activity in the last 10 minutes</source>
            <translation>Besucher, die aktiv auf Ihrer Website surfen (in den letzten 10 Minuten gab es einige Aktivitäten)</translation>
        </message>
        <message>
            <source>Visitors chatting with your agents right now</source>
            <translation>Besucher, die gerade mit Ihren Agenten chatten</translation>
        </message>
        <message>
            <source>Visitors identified through the contact form or the API</source>
            <translation>Besucher, die durch das Kontaktformular oder die API identifiziert werden</translation>
        </message>
        <message>
            <source>Visitors who received an automatic message</source>
            <translation>Besucher, die eine automatische Nachricht erhalten haben</translation>
        </message>
        <message>
            <source>Visitors banned by your agents</source>
            <translation>Besucher, die von Ihren Agenten blockiert wurden</translation>
        </message>
        <message>
            <source>Visitors a bot is talking with right now; open one to take over</source>
            <translation>Besucher, mit denen gerade ein Bot spricht; zum Übernehmen öffnen</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s)</source>
            <translation>
                <numerusform>%n Besucher</numerusform>
                <numerusform>%n Besucher</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>Frontdesk</name>
        <message>
            <source>Your login expired or was revoked. Please log in again.</source>
            <translation>Ihre Anmeldung ist abgelaufen oder wurde widerrufen. Bitte melden Sie sich erneut an.</translation>
        </message>
        <message>
            <source>Connecting…</source>
            <translation>Verbinde …</translation>
        </message>
        <message>
            <source>Online</source>
            <translation>Online</translation>
        </message>
        <message>
            <source>Connection lost - reconnecting…</source>
            <translation>Verbindung verloren – verbinde erneut …</translation>
        </message>
        <message>
            <source>Signed out: the login was revoked or expired.</source>
            <translation>Abgemeldet: Die Anmeldung wurde widerrufen oder ist abgelaufen.</translation>
        </message>
        <message>
            <source>The server speaks another protocol version; install a matching version of Frontdesk.</source>
            <translation>Der Server verwendet eine andere Protokollversion; installieren Sie eine passende Version von Frontdesk.</translation>
        </message>
        <message>
            <source>Disconnected</source>
            <translation>Getrennt</translation>
        </message>
        <message>
            <source>Visitor</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Automatic message</source>
            <translation>Automatische Nachricht</translation>
        </message>
        <message>
            <source>Bot %1</source>
            <translation>Bot %1</translation>
        </message>
        <message>
            <source>System</source>
            <translation>System</translation>
        </message>
        <message>
            <source>read</source>
            <translation>gelesen</translation>
        </message>
        <message>
            <source>delivered</source>
            <translation>zugestellt</translation>
        </message>
        <message>
            <source>sent</source>
            <translation>gesendet</translation>
        </message>
    </context>
    <context>
        <name>Legend</name>
        <message>
            <source>New chat</source>
            <translation>Neuer Chat</translation>
        </message>
        <message>
            <source>Chatting</source>
            <translation>Im Chat</translation>
        </message>
        <message>
            <source>Typing</source>
            <translation>Schreibt</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>Idle</source>
            <translation>Inaktiv</translation>
        </message>
        <message>
            <source>Auto-messaged</source>
            <translation>Automatisch benachrichtigt</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>Kunde</translation>
        </message>
        <message>
            <source>Returning</source>
            <translation>Wiederkehrend</translation>
        </message>
        <message>
            <source>Banned</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>Left</source>
            <translation>Gegangen</translation>
        </message>
        <message>
            <source>New or unanswered chat: the visitor wrote and waits for an agent</source>
            <translation>Neuer oder unbeantworteter Chat: der Besucher hat geschrieben und wartet auf eine Antwort</translation>
        </message>
        <message>
            <source>Chatting with an agent</source>
            <translation>Im Chat mit einem Mitarbeiter</translation>
        </message>
        <message>
            <source>Typing a message right now</source>
            <translation>Schreibt gerade eine Nachricht</translation>
        </message>
        <message>
            <source>Active: did something on the site in the last 10 minutes</source>
            <translation>Aktiv: hat in den letzten 10 Minuten etwas auf der Website getan</translation>
        </message>
        <message>
            <source>Idle: no activity for 10 minutes, the page is still open</source>
            <translation>Inaktiv: seit 10 Minuten keine Aktivität, die Seite ist noch offen</translation>
        </message>
        <message>
            <source>Received an automatic message</source>
            <translation>Hat eine automatische Nachricht erhalten</translation>
        </message>
        <message>
            <source>Customer: identified through the contact form or the API</source>
            <translation>Kunde: über das Kontaktformular oder die API identifiziert</translation>
        </message>
        <message>
            <source>Returning visitor (the number of visits is in the Visits column)</source>
            <translation>Wiederkehrender Besucher (die Zahl der Besuche steht in der Spalte Besuche)</translation>
        </message>
        <message>
            <source>Banned by an agent</source>
            <translation>Von einem Mitarbeiter gesperrt</translation>
        </message>
        <message>
            <source>Left the website (stays listed for a short while)</source>
            <translation>Hat die Website verlassen (bleibt kurz in der Liste)</translation>
        </message>
    </context>
    <context>
        <name>LegendDialog</name>
        <message>
            <source>Visitor icons</source>
            <translation>Besuchersymbole</translation>
        </message>
        <message>
            <source>The first column of the visitor list shows each visitor's state:</source>
            <translation>Die erste Spalte der Besucherliste zeigt den Zustand jedes Besuchers:</translation>
        </message>
        <message>
            <source>Visitor icons and their meaning</source>
            <translation>Bedeutung der Besuchersymbole</translation>
        </message>
    </context>
    <context>
        <name>LoginDialog</name>
        <message>
            <source>Log in to Frontdesk</source>
            <translation>Bei Frontdesk anmelden</translation>
        </message>
        <message>
            <source>Server address</source>
            <translation>Serveradresse</translation>
        </message>
        <message>
            <source>you@example.com</source>
            <translation>sie@beispiel.de</translation>
        </message>
        <message>
            <source>E-mail</source>
            <translation>E-Mail</translation>
        </message>
        <message>
            <source>Password</source>
            <translation>Passwort</translation>
        </message>
        <message>
            <source>&amp;Server:</source>
            <translation>&amp;Server:</translation>
        </message>
        <message>
            <source>&amp;E-mail:</source>
            <translation>&amp;E-Mail:</translation>
        </message>
        <message>
            <source>&amp;Password:</source>
            <translation>&amp;Passwort:</translation>
        </message>
        <message>
            <source>Login error</source>
            <translation>Anmeldefehler</translation>
        </message>
        <message>
            <source>&amp;Log in</source>
            <translation>&amp;Anmelden</translation>
        </message>
        <message>
            <source>Logging in…</source>
            <translation>Anmeldung läuft …</translation>
        </message>
        <message>
            <source>Enter the server address, starting with http:// or https://.</source>
            <translation>Geben Sie die Serveradresse ein, beginnend mit http:// oder https://.</translation>
        </message>
        <message>
            <source>Enter the e-mail address of your agent account.</source>
            <translation>Geben Sie die E-Mail-Adresse Ihres Agentenkontos ein.</translation>
        </message>
        <message>
            <source>Enter your password.</source>
            <translation>Geben Sie Ihr Passwort ein.</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>Frontdesk</source>
            <translation>Frontdesk</translation>
        </message>
        <message>
            <source>Visitors</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Connecting…</source>
            <translation>Verbinde …</translation>
        </message>
        <message>
            <source>Connection</source>
            <translation>Verbindung</translation>
        </message>
        <message>
            <source>Visitors online</source>
            <translation>Besucher online</translation>
        </message>
        <message>
            <source>Unread chats</source>
            <translation>Ungelesene Chats</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>&amp;Datei</translation>
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation>&amp;Einstellungen …</translation>
        </message>
        <message>
            <source>&amp;Bots…</source>
            <translation>&amp;Bots…</translation>
        </message>
        <message>
            <source>&amp;Log out</source>
            <translation>A&amp;bmelden</translation>
        </message>
        <message>
            <source>Close &amp;tab</source>
            <translation>&amp;Tab schließen</translation>
        </message>
        <message>
            <source>&amp;Close window</source>
            <translation>Fenster &amp;schließen</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>&amp;Beenden</translation>
        </message>
        <message>
            <source>&amp;Visitors</source>
            <translation>Be&amp;sucher</translation>
        </message>
        <message>
            <source>&amp;Find visitor</source>
            <translation>Besucher &amp;suchen</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>&amp;Hilfe</translation>
        </message>
        <message>
            <source>Visitor &amp;icons</source>
            <translation>Besucher&amp;symbole</translation>
        </message>
        <message>
            <source>&amp;Demo website</source>
            <translation>&amp;Demo-Website</translation>
        </message>
        <message>
            <source>About this &amp;account</source>
            <translation>Über dieses &amp;Konto</translation>
        </message>
        <message>
            <source>&amp;About Frontdesk</source>
            <translation>Ü&amp;ber Frontdesk</translation>
        </message>
        <message>
            <source>Frontdesk - %1 (%2, %3)</source>
            <translation>Frontdesk – %1 (%2, %3)</translation>
        </message>
        <message>
            <source>Account: %1
Plan: %2
Signed in as: %3</source>
            <translation>Konto: %1
Tarif: %2
Angemeldet als: %3</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s) online</source>
            <translation>
                <numerusform>%n Besucher online</numerusform>
                <numerusform>%n Besucher online</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n unread chat(s)</source>
            <translation>
                <numerusform>%n ungelesener Chat</numerusform>
                <numerusform>%n ungelesene Chats</numerusform>
            </translation>
        </message>
        <message>
            <source>Not connected yet.</source>
            <translation>Noch nicht verbunden.</translation>
        </message>
        <message>
            <source>The retention settings could not be loaded; try again later.</source>
            <translation>Die Aufbewahrungsfristen konnten nicht geladen werden; versuchen Sie es später erneut.</translation>
        </message>
        <message>
            <source>Data is kept for:</source>
            <translation>Daten werden aufbewahrt:</translation>
        </message>
        <message>
            <source>departed visitors: %1 days after their last visit</source>
            <translation>gegangene Besucher: %1 Tage nach ihrem letzten Besuch</translation>
        </message>
        <message>
            <source>chat messages: %1 days</source>
            <translation>Chatnachrichten: %1 Tage</translation>
        </message>
        <message>
            <source>messages left while no agent was online: %1 days</source>
            <translation>Nachrichten, während kein Agent online war: %1 Tage</translation>
        </message>
        <message>
            <source>Admins change this with frontdesk-server account set-retention or the REST API.</source>
            <translation>Admins ändern das mit frontdesk-server account set-retention oder über die REST-API.</translation>
        </message>
        <message>
            <source>About this account</source>
            <translation>Über dieses Konto</translation>
        </message>
        <message>
            <source>About Frontdesk</source>
            <translation>Über Frontdesk</translation>
        </message>
        <message>
            <source>Frontdesk %1
See everyone on your website right now and talk to them.</source>
            <translation>Frontdesk %1
Sehen Sie alle, die gerade auf Ihrer Website sind, und sprechen Sie mit ihnen.</translation>
        </message>
        <message>
            <source>Demo website: %1 - open it in a browser and chat with yourself.</source>
            <translation>Demo-Website: %1 – öffnen Sie sie in einem Browser und chatten Sie mit sich selbst.</translation>
        </message>
        <message>
            <source>Only an admin of the account changes bots; you can look, not change.</source>
            <translation>Nur eine Administratorin oder ein Administrator des Kontos ändert Bots; Sie können sie ansehen, aber nicht ändern.</translation>
        </message>
        <message>
            <source>Bots need the STANDARD or PRO plan; you can look, not change.</source>
            <translation>Bots erfordern den Tarif STANDARD oder PRO; Sie können sie ansehen, aber nicht ändern.</translation>
        </message>
    </context>
    <context>
        <name>NotesDialog</name>
        <message>
            <source>Notes on %1</source>
            <translation>Notizen zu %1</translation>
        </message>
        <message>
            <source>Only agents see notes; they never reach the visitor.</source>
            <translation>Nur Mitarbeiter sehen Notizen; sie erreichen nie den Besucher.</translation>
        </message>
        <message>
            <source>Notes</source>
            <translation>Notizen</translation>
        </message>
        <message>
            <source>New note</source>
            <translation>Neue Notiz</translation>
        </message>
        <message>
            <source>&amp;Add note</source>
            <translation>Notiz &amp;hinzufügen</translation>
        </message>
    </context>
    <context>
        <name>Notifier</name>
        <message>
            <source>Frontdesk</source>
            <translation>Frontdesk</translation>
        </message>
        <message>
            <source>Customer on your website</source>
            <translation>Kunde auf Ihrer Website</translation>
        </message>
        <message>
            <source>Returning visitor (visit %1)</source>
            <translation>Wiederkehrender Besucher (Besuch %1)</translation>
        </message>
        <message>
            <source>New visitor on your website</source>
            <translation>Neuer Besucher auf Ihrer Website</translation>
        </message>
        <message numerus="yes">
            <source>%n new visitor(s)</source>
            <translation>
                <numerusform>%n neuer Besucher</numerusform>
                <numerusform>%n neue Besucher</numerusform>
            </translation>
        </message>
        <message>
            <source>A visitor</source>
            <translation>Ein Besucher</translation>
        </message>
        <message>
            <source>Message from %1</source>
            <translation>Nachricht von %1</translation>
        </message>
        <message>
            <source>%1 waits for an agent</source>
            <translation>%1 wartet auf einen Agenten</translation>
        </message>
    </context>
    <context>
        <name>PreviewPane</name>
        <message>
            <source>Preview</source>
            <translation>Vorschau</translation>
        </message>
        <message>
            <source>Preview transcript</source>
            <translation>Verlauf der Vorschau</translation>
        </message>
        <message>
            <source>Answer as the visitor and press Enter</source>
            <translation>Als Besucher antworten und Enter drücken</translation>
        </message>
        <message>
            <source>Page of the previewed visitor</source>
            <translation>Seite des Vorschau-Besuchers</translation>
        </message>
        <message>
            <source>Agents online</source>
            <translation>Agenten online</translation>
        </message>
        <message>
            <source>Returning</source>
            <translation>Wiederkehrend</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>Kunde</translation>
        </message>
        <message>
            <source>&amp;Run from the start</source>
            <translation>Von vorn &amp;starten</translation>
        </message>
        <message>
            <source>Take o&amp;ver</source>
            <translation>Ü&amp;bernehmen</translation>
        </message>
        <message>
            <source>Bot</source>
            <translation>Bot</translation>
        </message>
        <message>
            <source>Visitor</source>
            <translation>Besucher</translation>
        </message>
    </context>
    <context>
        <name>ReorderHold</name>
        <message>
            <source>New visitors waiting</source>
            <translation>Neue Besucher warten</translation>
        </message>
        <message numerus="yes">
            <source>↑ %n new</source>
            <translation>
                <numerusform>↑ %n neuer</numerusform>
                <numerusform>↑ %n neue</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Frontdesk settings</source>
            <translation>Frontdesk-Einstellungen</translation>
        </message>
        <message>
            <source>Server address</source>
            <translation>Serveradresse</translation>
        </message>
        <message>
            <source>Notify about new visitors</source>
            <translation>Über neue Besucher benachrichtigen</translation>
        </message>
        <message>
            <source>Every new visitor</source>
            <translation>Jeder neue Besucher</translation>
        </message>
        <message>
            <source>Returning visitors only</source>
            <translation>Nur wiederkehrende Besucher</translation>
        </message>
        <message>
            <source>Customers only</source>
            <translation>Nur Kunden</translation>
        </message>
        <message>
            <source>Off</source>
            <translation>Aus</translation>
        </message>
        <message>
            <source>Notify about chat messages while the window is in the background</source>
            <translation>Über Chat-Nachrichten benachrichtigen, während das Fenster im Hintergrund ist</translation>
        </message>
        <message>
            <source>Play a sound with notifications</source>
            <translation>Bei Benachrichtigungen einen Ton abspielen</translation>
        </message>
        <message>
            <source>Repeat the sound for waiting chats every</source>
            <translation>Ton für wartende Chats wiederholen alle</translation>
        </message>
        <message>
            <source> s</source>
            <translation> s</translation>
        </message>
        <message>
            <source>never</source>
            <translation>nie</translation>
        </message>
        <message>
            <source>Away after this many minutes without input</source>
            <translation>Abwesend nach so vielen Minuten ohne Eingabe</translation>
        </message>
        <message>
            <source> min</source>
            <translation> min</translation>
        </message>
        <message>
            <source>Automatic away is not available here (%1); set your status by hand.</source>
            <translation>Automatisch abwesend ist hier nicht verfügbar (%1); setzen Sie Ihren Status von Hand.</translation>
        </message>
        <message>
            <source>Open conversations as tabs (otherwise each in its own window)</source>
            <translation>Konversationen als Tabs öffnen (sonst jede in einem eigenen Fenster)</translation>
        </message>
        <message>
            <source>Start minimized to the tray</source>
            <translation>Minimiert im Infobereich starten</translation>
        </message>
        <message>
            <source>Start Frontdesk when I log in</source>
            <translation>Frontdesk bei der Anmeldung am Computer starten</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>Sprache</translation>
        </message>
        <message>
            <source>System language</source>
            <translation>Systemsprache</translation>
        </message>
        <message>
            <source>&amp;Server:</source>
            <translation>&amp;Server:</translation>
        </message>
        <message>
            <source>&amp;New visitors:</source>
            <translation>&amp;Neue Besucher:</translation>
        </message>
        <message>
            <source>&amp;Repeat sound for waiting chats:</source>
            <translation>Ton für wartende Chats &amp;wiederholen:</translation>
        </message>
        <message>
            <source>&amp;Away when idle for:</source>
            <translation>&amp;Abwesend nach Inaktivität von:</translation>
        </message>
        <message>
            <source>&amp;Language:</source>
            <translation>&amp;Sprache:</translation>
        </message>
        <message>
            <source>Enter the server address, starting with http:// or https://.</source>
            <translation>Geben Sie die Serveradresse ein, beginnend mit http:// oder https://.</translation>
        </message>
    </context>
    <context>
        <name>StepForm</name>
        <message>
            <source>What the bot says; {variable} inserts an answer</source>
            <translation>Was der Bot sagt; {variable} fügt eine Antwort ein</translation>
        </message>
        <message>
            <source>name, email, phone or your own variable</source>
            <translation>name, email, phone oder eine eigene Variable</translation>
        </message>
        <message>
            <source>Asked again when the answer does not fit</source>
            <translation>Wird gefragt, wenn die Antwort nicht passt</translation>
        </message>
        <message>
            <source>One quick reply a line: Label -&gt; next step</source>
            <translation>Eine Schnellantwort pro Zeile: Text -&gt; nächster Schritt</translation>
        </message>
        <message>
            <source>One branch a line: agents_online=yes; page_contains=/x -&gt; step</source>
            <translation>Ein Zweig pro Zeile: agents_online=yes; page_contains=/x -&gt; Schritt</translation>
        </message>
        <message>
            <source>Kind:</source>
            <translation>Art:</translation>
        </message>
        <message>
            <source>Step &amp;id:</source>
            <translation>Schritt-&amp;ID:</translation>
        </message>
        <message>
            <source>&amp;Text:</source>
            <translation>&amp;Text:</translation>
        </message>
        <message>
            <source>&amp;Quick replies:</source>
            <translation>Schnell&amp;antworten:</translation>
        </message>
        <message>
            <source>&amp;Branches:</source>
            <translation>&amp;Zweige:</translation>
        </message>
        <message>
            <source>&amp;Otherwise:</source>
            <translation>&amp;Sonst:</translation>
        </message>
        <message>
            <source>&amp;Store answer in:</source>
            <translation>Antwort s&amp;peichern in:</translation>
        </message>
        <message>
            <source>&amp;Expect:</source>
            <translation>&amp;Erwartet:</translation>
        </message>
        <message>
            <source>&amp;Retry text:</source>
            <translation>Text bei &amp;Wiederholung:</translation>
        </message>
        <message>
            <source>&amp;Next step:</source>
            <translation>&amp;Nächster Schritt:</translation>
        </message>
    </context>
    <context>
        <name>TransferDialog</name>
        <message>
            <source>Transfer the chat</source>
            <translation>Chat weitergeben</translation>
        </message>
        <message>
            <source>Colleague</source>
            <translation>Kollege</translation>
        </message>
        <message>
            <source>Note for the colleague</source>
            <translation>Notiz für den Kollegen</translation>
        </message>
        <message>
            <source>What should they know? (only agents see it)</source>
            <translation>Was sollte er wissen? (nur Mitarbeiter sehen es)</translation>
        </message>
        <message>
            <source>Hand the chat with %1 to:</source>
            <translation>Chat mit %1 weitergeben an:</translation>
        </message>
        <message>
            <source>No colleague is Online now.</source>
            <translation>Gerade ist kein Kollege online.</translation>
        </message>
        <message>
            <source>&amp;Colleague:</source>
            <translation>&amp;Kollege:</translation>
        </message>
        <message>
            <source>&amp;Note:</source>
            <translation>&amp;Notiz:</translation>
        </message>
    </context>
    <context>
        <name>Tray</name>
        <message>
            <source>&amp;Show Frontdesk</source>
            <translation>Frontdesk &amp;anzeigen</translation>
        </message>
        <message>
            <source>O&amp;nline</source>
            <translation>O&amp;nline</translation>
        </message>
        <message>
            <source>&amp;Away</source>
            <translation>&amp;Abwesend</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>&amp;Beenden</translation>
        </message>
        <message>
            <source>&amp;Away (idle)</source>
            <translation>&amp;Abwesend (inaktiv)</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s) online</source>
            <translation>
                <numerusform>%n Besucher online</numerusform>
                <numerusform>%n Besucher online</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n unread chat(s)</source>
            <translation>
                <numerusform>%n ungelesener Chat</numerusform>
                <numerusform>%n ungelesene Chats</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n chat(s) waiting for an answer</source>
            <translation>
                <numerusform>%n Chat wartet auf Antwort</numerusform>
                <numerusform>%n Chats warten auf Antwort</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>VisitorTableModel</name>
        <message>
            <source>State</source>
            <translation>Status</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>Name</translation>
        </message>
        <message>
            <source>Location</source>
            <translation>Standort</translation>
        </message>
        <message>
            <source>Current page</source>
            <translation>Aktuelle Seite</translation>
        </message>
        <message>
            <source>Time on site</source>
            <translation>Verweildauer</translation>
        </message>
        <message>
            <source>Visits</source>
            <translation>Besuche</translation>
        </message>
        <message>
            <source>Referrer</source>
            <translation>Herkunft</translation>
        </message>
        <message>
            <source>Browser / OS / device</source>
            <translation>Browser / System / Gerät</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>New or unanswered chat</source>
            <translation>Neuer oder unbeantworteter Chat</translation>
        </message>
        <message>
            <source>Chatting</source>
            <translation>Im Chat</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>Idle</source>
            <translation>Inaktiv</translation>
        </message>
        <message>
            <source>Auto-messaged</source>
            <translation>Automatisch benachrichtigt</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>Kunde</translation>
        </message>
        <message>
            <source>Returning</source>
            <translation>Wiederkehrend</translation>
        </message>
        <message>
            <source>Banned</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>Left</source>
            <translation>Gegangen</translation>
        </message>
        <message>
            <source>Typing</source>
            <translation>Schreibt</translation>
        </message>
    </context>
    <context>
        <name>VisitorsTab</name>
        <message>
            <source>Search by name, e-mail, page, country or visitor id (Ctrl+F)</source>
            <translation>Suche nach Name, E-Mail, Seite, Land oder Besucher-ID (Strg+F)</translation>
        </message>
        <message>
            <source>Search visitors</source>
            <translation>Besucher suchen</translation>
        </message>
        <message>
            <source>Visitor filters</source>
            <translation>Besucherfilter</translation>
        </message>
        <message>
            <source>Visitors</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Open conversation</source>
            <translation>Konversation öffnen</translation>
        </message>
        <message>
            <source>Ban…</source>
            <translation>Sperren …</translation>
        </message>
        <message>
            <source>Export data…</source>
            <translation>Daten exportieren…</translation>
        </message>
        <message>
            <source>Erase data…</source>
            <translation>Daten löschen…</translation>
        </message>
        <message>
            <source>Ban or unban visitor</source>
            <translation>Besucher sperren oder entsperren</translation>
        </message>
        <message>
            <source>Why the action is unavailable</source>
            <translation>Warum die Aktion nicht verfügbar ist</translation>
        </message>
        <message>
            <source>No visitors listed</source>
            <translation>Keine Besucher in der Liste</translation>
        </message>
        <message>
            <source>No visitor matches “%1”. Clear the search to see everyone.</source>
            <translation>Kein Besucher passt zu „%1“. Leeren Sie die Suche, um alle zu sehen.</translation>
        </message>
        <message>
            <source>No visitors under this filter right now. Alt+1 shows everyone.</source>
            <translation>Gerade keine Besucher unter diesem Filter. Alt+1 zeigt alle.</translation>
        </message>
        <message>
            <source>Nobody is on your website right now. Visitors appear here as soon as they arrive.</source>
            <translation>Gerade ist niemand auf Ihrer Website. Besucher erscheinen hier, sobald sie kommen.</translation>
        </message>
        <message>
            <source>Select a visitor first.</source>
            <translation>Wählen Sie zuerst einen Besucher aus.</translation>
        </message>
        <message>
            <source>This visitor is banned.</source>
            <translation>Dieser Besucher ist gesperrt.</translation>
        </message>
        <message>
            <source>Connecting to the server…</source>
            <translation>Verbinde mit dem Server …</translation>
        </message>
        <message>
            <source>Available on the STANDARD and PRO plans.</source>
            <translation>Nur im STANDARD- und PRO-Paket verfügbar.</translation>
        </message>
        <message>
            <source>This visitor has left the website.</source>
            <translation>Dieser Besucher hat die Website verlassen.</translation>
        </message>
        <message>
            <source>Open a conversation with this visitor (Enter)</source>
            <translation>Eine Konversation mit diesem Besucher öffnen (Eingabetaste)</translation>
        </message>
        <message>
            <source>Unban…</source>
            <translation>Entsperren …</translation>
        </message>
        <message>
            <source>Only an admin of your account can export or erase a visitor's data.</source>
            <translation>Nur ein Admin Ihres Kontos kann die Daten eines Besuchers exportieren oder löschen.</translation>
        </message>
        <message>
            <source>Opening the conversation with %1…</source>
            <translation>Konversation mit %1 wird geöffnet …</translation>
        </message>
        <message>
            <source>Unban visitor</source>
            <translation>Besucher entsperren</translation>
        </message>
        <message>
            <source>Lift the ban on %1? They can visit and chat again.</source>
            <translation>Sperre für %1 aufheben? Der Besucher kann dann wieder surfen und chatten.</translation>
        </message>
        <message>
            <source>Ban visitor</source>
            <translation>Besucher sperren</translation>
        </message>
        <message>
            <source>Ban %1? Their open pages disconnect and they cannot chat any more.</source>
            <translation>%1 sperren? Die offenen Seiten werden getrennt und der Besucher kann nicht mehr chatten.</translation>
        </message>
        <message>
            <source>Also refuse their internet address for a while</source>
            <translation>Auch ihre Internetadresse eine Zeit lang abweisen</translation>
        </message>
        <message>
            <source>The visitor has left; their address is not known.</source>
            <translation>Der Besucher ist gegangen; seine Adresse ist nicht bekannt.</translation>
        </message>
        <message>
            <source>Visitor unbanned.</source>
            <translation>Besucher entsperrt.</translation>
        </message>
        <message>
            <source>Visitor banned.</source>
            <translation>Besucher gesperrt.</translation>
        </message>
        <message>
            <source>Erase visitor data</source>
            <translation>Besucherdaten löschen</translation>
        </message>
        <message>
            <source>Erase everything held about %1: identity, custom variables, pages and every message? This cannot be undone. A ban stays in force.</source>
            <translation>Alles über %1 Gespeicherte löschen: Identität, benutzerdefinierte Variablen, Seiten und alle Nachrichten? Das lässt sich nicht rückgängig machen. Eine Sperre bleibt bestehen.</translation>
        </message>
        <message>
            <source>The visitor's data was erased.</source>
            <translation>Die Daten des Besuchers wurden gelöscht.</translation>
        </message>
        <message>
            <source>Export visitor data</source>
            <translation>Besucherdaten exportieren</translation>
        </message>
        <message>
            <source>JSON files (*.json)</source>
            <translation>JSON-Dateien (*.json)</translation>
        </message>
        <message>
            <source>Visitor data saved to %1.</source>
            <translation>Besucherdaten gespeichert unter %1.</translation>
        </message>
        <message>
            <source>The server refused</source>
            <translation>Der Server hat abgelehnt</translation>
        </message>
    </context>
    <context>
        <name>window</name>
        <message>
            <source>Demo website: %1 - open it in a browser and chat with yourself.</source>
            <translation>Demo-Website: %1 – öffnen Sie sie in einem Browser und chatten Sie mit sich selbst.</translation>
        </message>
        <message>
            <source>Only an admin of the account changes bots; you can look, not change.</source>
            <translation>Nur eine Administratorin oder ein Administrator des Kontos ändert Bots; Sie können sie ansehen, aber nicht ändern.</translation>
        </message>
        <message>
            <source>Bots need the STANDARD or PRO plan; you can look, not change.</source>
            <translation>Bots erfordern den Tarif STANDARD oder PRO; Sie können sie ansehen, aber nicht ändern.</translation>
        </message>
    </context>
</TS>
