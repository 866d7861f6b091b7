package identity

import "github.com/facegate/facegate/vision"

// Former names, kept only while web and cmd/internal/appliance (other
// branches' rooms) still use them; the lead drops this file when they
// call Enroll and name EnrollResult and vision.ImageError.

// EnrolResult is EnrollResult under its former name.
type EnrolResult = EnrollResult

// PhotoError is vision.ImageError, the one error type for an unusable
// image, under its former name.
type PhotoError = vision.ImageError

// Enrol is Enroll under its former name.
func (s *Service) Enrol(employeeID, name string, photos []Photo) (EnrollResult, error) {
	return s.Enroll(employeeID, name, photos)
}
