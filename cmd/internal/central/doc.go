// Package central runs a site's central (`facegate central`): the site's
// truth (people, sealed templates, photos, groups, rules, holidays, doors,
// users) in one database, the web app over it as the site's console, and
// the sync API its doors use (see package gate/site): doors pull people
// and policy by revision (long poll: a change reaches every online door
// within a second) and push their evidence chains, which the central
// stores as received and checks on arrival, raising an alarm for a gap,
// an edit, a fork or a log rewritten after sync. The console is the web
// app with a web.Site (siteView): every door's entries, presence, audit and
// evidence, and a page of the doors (online by last contact against
// Config.DoorStale, backlog, camera, relay, alarms, join tokens), the doors'
// own alarms acknowledged from Home (the request rides on the door's push
// receipts until its acknowledgement comes back in its chain), and each
// door's live view: the door long-polls /v1/live/wanted, which wakes when a
// console viewer opens the view, and sends frames and decisions while
// anyone watches (live.go; web.LiveDoors holds them in memory).
package central
