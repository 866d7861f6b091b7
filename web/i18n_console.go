package web

// Words of the console's later pages (people's photos, keypad pairing and
// the keypad, PIN links, webhooks); merged into messages at start.
var consoleMessages = map[string]map[string]string{
	"en": {
		"rules.edit":              "Edit",
		"rules.cancel":            "Cancel",
		"rules.field.replace":     "the record edited",
		"rules.err.gone":          "%s (%s) no longer exists (deleted meanwhile): add it again.",
		"people.addphoto":         "Add a photo",
		"conflict.stored":         "enrolled photo %s (template %s)",
		"people.removephoto":      "Remove photo",
		"people.lastphoto":        "%s has only this photo: enrol another first, or erase the person.",
		"people.nophoto":          "%s has no such photo (removed already?).",
		"action.photo_added":      "photo added",
		"action.template_removed": "photo removed",
		"detail.template_id":      "template",
		"detail.photo_sha256":     "photo",
		"detail.model":            "model",
		"detail.person_id":        "person",
	},
	"ja": {
		"rules.edit":              "編集",
		"rules.cancel":            "キャンセル",
		"rules.field.replace":     "編集中の項目",
		"rules.err.gone":          "%s（%s）はもうありません（その間に削除されました）。もう一度追加してください。",
		"people.addphoto":         "写真を追加",
		"conflict.stored":         "登録済みの写真 %s（テンプレート %s）",
		"people.removephoto":      "写真を削除",
		"people.lastphoto":        "%s の写真はこの 1 枚だけです。先に別の写真を登録するか、この人を削除してください。",
		"people.nophoto":          "%s にその写真はありません（削除済みかもしれません）。",
		"action.photo_added":      "写真の追加",
		"action.template_removed": "写真の削除",
		"detail.template_id":      "テンプレート",
		"detail.photo_sha256":     "写真",
		"detail.model":            "モデル",
		"detail.person_id":        "人物",
	},
}

func init() {
	for lang, m := range consoleMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}
